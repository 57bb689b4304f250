#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import Synchronization

/// The node's IPAM: an ``IPAMState`` behind one lock (no await and no network I/O inside it) and a journal that
/// makes every change durable before the call returns. Concurrent calls share fsyncs (group commit).
public final class IPAMService: Sendable {
    private let state: Mutex<IPAMState>
    private let journal: JournalWriter
    private let clock: @Sendable () -> Double
    /// Journal size that triggers a compaction into a snapshot.
    private let compactionThreshold: Int

    /// The journal file inside a state directory.
    public static func journalPath(in directory: String) -> String { directory + "/ipam.journal" }

    /// Opens the state directory (creating it), replays the journal, cuts off a torn tail, and compacts. `onSync` is
    /// told how long each journal write and sync took (the daemon's fsync histogram).
    public init(directory: String, quarantineSeconds: Double = 30, compactionThreshold: Int = 8 << 20,
                clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                onSync: @escaping @Sendable (Duration) -> Void = { _ in }) throws(IPAMError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw .storage("cannot create \(directory): \(error)")
        }
        let path = Self.journalPath(in: directory)
        let bytes = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        let (records, validLength) = JournalFormat.read(bytes)
        var restored = IPAMState(quarantineSeconds: quarantineSeconds)
        for record in records { Self.apply(record, to: &restored) }
        state = Mutex(restored)
        journal = try JournalWriter(path: path, directory: directory, validLength: validLength, onSync: onSync)
        self.clock = clock
        self.compactionThreshold = compactionThreshold
        /// Bytes cut off the end: a write that was torn by a crash and never acknowledged.
        tornBytes = bytes.count - validLength
        recoveredRecords = records.count
    }

    /// Bytes dropped from the end of the journal at open (a torn, unacknowledged write).
    public let tornBytes: Int
    /// Records replayed at open.
    public let recoveredRecords: Int

    /// A copy of the current state. Holding it while others allocate makes their next change copy the state:
    /// use the queries below on hot paths.
    public var current: IPAMState { state.withLock { $0 } }

    /// The pools of a network on a host NIC (read under the lock, no copy of the state).
    public func pools(network: String, interfaceName: String) -> [PoolBlock] {
        state.withLock { $0.pools(network: network, interfaceName: interfaceName) }
    }

    /// Leases per host NIC (for attach policies that balance load).
    public func attachmentCounts() -> [String: Int] {
        state.withLock { state in
            var counts: [String: Int] = [:]
            for lease in state.leases.values { counts[lease.interfaceName, default: 0] += 1 }
            return counts
        }
    }

    /// Names of the networks that have pools here.
    public func networksWithPools() -> [String] {
        state.withLock { Set($0.pools.values.map(\.network)).sorted() }
    }

    /// fsyncs done since open.
    public var syncCount: Int { journal.syncCount.load(ordering: .relaxed) }

    /// Seconds spent in journal writes and fsyncs since open.
    public var syncSeconds: Double { Double(journal.syncNanoseconds.load(ordering: .relaxed)) / 1e9 }

    static func apply(_ record: JournalRecord, to state: inout IPAMState) {
        switch record {
        case .snapshot(let snapshot): state = IPAMState(snapshot: snapshot, quarantineSeconds: state.quarantineSeconds)
        case .pools(let blocks): state.setPools(blocks)
        case .allocated(let leases): for lease in leases { state.restore(lease) }
        case .released(let keys, let at): state.release(keys, now: at)
        case .adopted(let pools, let leases, let marks):
            state.setPools(pools)
            state.restoreAdoption(leases: leases, marks: marks)
        case .rekeyed(let rekeys): state.apply(rekeys)
        }
    }

    /// Runs `change` under the lock, journals the record it returns (if any), and waits until the journal holds
    /// everything up to that point — also when nothing changed, so an answer never precedes the durability of
    /// the change it reports (a retry may see a lease another call has not yet synced).
    private func commit<T: Sendable>(_ change: (inout IPAMState, Double) throws(IPAMError) -> (T, JournalRecord?))
        async throws(IPAMError) -> T
    {
        let now = clock()
        let (value, sequence) = try state.withLock { (state: inout IPAMState) throws(IPAMError) -> (T, UInt64) in
            let (value, record) = try change(&state, now)
            guard let record else { return (value, journal.lastAppended) }
            let frame: [UInt8]
            do {
                frame = try JournalFormat.frame(record)
            } catch {
                throw .journal("cannot encode \(record): \(error)")
            }
            var sequence = journal.append(frame)
            if journal.wantsCompaction(threshold: compactionThreshold), let snapshot = try? JournalFormat.frame(.snapshot(state.snapshot(now: now))) {
                sequence = journal.compact(with: snapshot)
            }
            return (value, sequence)
        }
        do {
            try await journal.waitDurable(sequence)
        } catch {
            recoverFromFailedWrite()
            throw error
        }
        return value
    }

    /// A journal write failed (ENOSPC, EIO): the changes it held are not durable, so the state goes back to what the
    /// journal holds on disk, and the journal takes writes again (the next change tries the disk anew). Changes made
    /// meanwhile fail as well; their callers were not answered yet.
    private func recoverFromFailedWrite() {
        state.withLock { state in
            guard journal.resetAfterFailure() else { return }
            let bytes = FileManager.default.contents(atPath: journal.path).map { Array($0) } ?? []
            var restored = IPAMState(quarantineSeconds: state.quarantineSeconds)
            for record in JournalFormat.read(bytes).records { Self.apply(record, to: &restored) }
            state = restored
        }
    }

    /// Replaces the pool set (from the operator's IPPools or the lab's configuration).
    public func setPools(_ blocks: [PoolBlock]) async throws(IPAMError) {
        try await commit { state, _ in
            let sorted = blocks.sorted { $0.name < $1.name }
            // Unchanged (pools the state skips for a problem compared by name): nothing to journal.
            let usable = sorted.filter { $0.problem == nil }
            let skipped = Set(sorted.filter { $0.problem != nil }.map(\.name))
            if state.pools.values.sorted(by: { $0.name < $1.name }) == usable && Set(state.skippedPools.keys) == skipped {
                return ((), nil)
            }
            state.setPools(sorted)
            return ((), .pools(sorted))
        }
    }

    /// Replaces the pool set and adopts, in the same journal record, what a taken-over cluster's pods hold in those
    /// pools (each adoption once, ever). Returns a sentence per adoption refused.
    public func setPools(_ blocks: [PoolBlock], adopting adoptions: [Adoption]) async throws(IPAMError) -> [String] {
        guard !adoptions.isEmpty else {
            try await setPools(blocks)
            return []
        }
        return try await commit { state, _ in
            let sorted = blocks.sorted { $0.name < $1.name }
            let poolsChanged = state.pools.values.sorted(by: { $0.name < $1.name }) != sorted.filter { $0.problem == nil }
                || Set(state.skippedPools.keys) != Set(sorted.filter { $0.problem != nil }.map(\.name))
            let before = state
            if poolsChanged { state.setPools(sorted) }
            let (leases, marks, refused) = state.adopt(adoptions)
            guard poolsChanged || !marks.isEmpty else {
                state = before
                return (refused, nil)
            }
            return (refused, .adopted(pools: sorted, leases: leases, marks: marks))
        }
    }

    /// Releases a pod's pod-keyed leases on a network (its DEL named no container that holds any).
    public func release(network: String, pod: PodRef) async throws(IPAMError) -> [Lease] {
        try await releasing { $0.podKeyedKeys(network: network, pod: pod) }
    }

    /// One address per request, all or nothing, durable on return. Idempotent per (network, containerID, ifName).
    public func allocate(network: String, containerID: String, pod: PodRef, requests: [AllocationRequest])
        async throws(IPAMError) -> [Lease]
    {
        try await commit { state, now throws(IPAMError) in
            let (leases, new) = try state.allocate(network: network, containerID: containerID, pod: pod,
                                                   requests: requests, now: now)
            return (leases, new.isEmpty ? nil : .allocated(new))
        }
    }

    /// Releases a container's leases (of one network / interface when given). Nothing to release is not an error.
    public func release(containerID: String, network: String? = nil, ifName: String? = nil) async throws(IPAMError)
        -> [Lease]
    {
        try await releasing { $0.keys(containerID: containerID, network: network, ifName: ifName) }
    }

    /// Releases one attachment's leases: `attachment` and its per-NIC interfaces `<attachment>-<k>`.
    public func release(containerID: String, network: String, attachment: String) async throws(IPAMError) -> [Lease] {
        try await releasing { $0.keys(containerID: containerID, network: network, attachment: attachment) }
    }

    /// CNI GC: releases every lease of `network` that is not a valid attachment.
    public func garbageCollect(network: String, valid: Set<AllocationKey>) async throws(IPAMError) -> [Lease] {
        try await releasing { $0.staleKeys(network: network, valid: valid) }
    }

    /// Releases every lease of these pods (the controller found them gone).
    public func release(podUIDs: Set<String>) async throws(IPAMError) -> [Lease] {
        try await releasing { $0.keys(ofPods: podUIDs) }
    }

    /// Hands `pod`'s pod-keyed leases on `network` to `containerID` (``IPAMState/rekeys(network:pod:containerID:claims:)``),
    /// durably; returns the moves made.
    public func rekey(network: String, pod: PodRef, containerID: String, claims: [String: String]) async throws(IPAMError) -> [Rekey] {
        try await commit { state, _ in
            let rekeys = state.rekeys(network: network, pod: pod, containerID: containerID, claims: claims)
            state.apply(rekeys)
            return (rekeys, rekeys.isEmpty ? nil : .rekeyed(rekeys))
        }
    }

    /// Releases the pod-keyed leases of the pods named `namespace/name` (found gone by the leak sweep).
    public func release(podKeyedNames names: Set<String>) async throws(IPAMError) -> [Lease] {
        try await releasing { $0.podKeyedKeys(ofPodNames: names) }
    }

    private func releasing(_ keys: @escaping (IPAMState) -> [AllocationKey]) async throws(IPAMError) -> [Lease] {
        try await commit { state, now in
            let chosen = keys(state)
            let released = state.release(chosen, now: now)
            return (released, released.isEmpty ? nil : .released(released.map(\.key), at: now))
        }
    }
}
