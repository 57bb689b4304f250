import MultiNICCore

/// The node's allocation state as a value: pools, leases, per-pool cursors and the quarantine of released
/// addresses. Every operation is a pure function of the state and `now` (seconds); the service journals the
/// resulting records. Invariant: an address is held by at most one lease.
public struct IPAMState: Sendable, Hashable {
    public private(set) var pools: [String: PoolBlock] = [:]
    public internal(set) var leases: [AllocationKey: Lease] = [:]
    /// Seconds a released address stays unavailable.
    public var quarantineSeconds: Double
    var allocators: [String: PoolAllocator] = [:]
    /// Used offsets per pool → the key holding it.
    var used: [String: [UInt128: AllocationKey]] = [:]
    /// Released offsets per pool → release time.
    var quarantine: [String: [UInt128: Double]] = [:]
    private var cursors: [String: UInt128] = [:]
    /// Allocations of a taken-over cluster already considered (``Adoption/mark``): each is adopted at most once, so
    /// a pool pushed again never brings back an address its pod has released since.
    public internal(set) var adopted: Set<String> = []
    /// Pools left out of the last pool set, with the reason (reported as a degraded status).
    public private(set) var skippedPools: [String: String] = [:]

    public init(quarantineSeconds: Double = 30) {
        self.quarantineSeconds = quarantineSeconds
    }

    // MARK: - Pools

    /// Replaces the pool set. Leases of pools that went away are kept (their pods still use the address) until
    /// released; their addresses cannot be handed out again since the pool is gone.
    /// Blocks with a ``PoolBlock/problem`` are left out and listed in ``skippedPools`` (a journal written before the
    /// check existed, or by another version, must not stop the daemon).
    public mutating func setPools(_ blocks: [PoolBlock]) {
        skippedPools = Dictionary(blocks.compactMap { block in block.problem.map { (block.name, $0) } },
                                  uniquingKeysWith: { first, _ in first })
        pools = Dictionary(blocks.filter { $0.problem == nil }.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        allocators = pools.mapValues { PoolAllocator(block: $0.podCIDR, excludes: $0.excludes) }
    }

    /// Pools of a network on a host NIC.
    public func pools(network: String, interfaceName: String) -> [PoolBlock] {
        pools.values.filter { $0.network == network && $0.interfaceName == interfaceName }.sorted { $0.name < $1.name }
    }

    // MARK: - Allocate

    /// Allocates one address per request, all or nothing. Keys that already hold an address from the same pool
    /// get it back (idempotent). Returns the leases in request order and whether anything new was allocated.
    public mutating func allocate(network: String, containerID: String, pod: PodRef, requests: [AllocationRequest],
                                  now: Double) throws(IPAMError) -> (leases: [Lease], new: [Lease]) {
        var result: [Lease] = []
        var created: [Lease] = []
        let cursorsBefore = cursors
        // A resting address given to this call rests again if the call fails.
        let quarantineBefore = quarantine
        func rollback() {
            undo(created)
            cursors = cursorsBefore
            quarantine = quarantineBefore
        }
        for request in requests {
            let key = AllocationKey(network: network, containerID: containerID, ifName: request.ifName)
            if let existing = leases[key] {
                guard existing.pool == request.pool else {
                    rollback()
                    throw .keyInOtherPool(key, existing: existing.pool, requested: request.pool)
                }
                result.append(existing)
                continue
            }
            do {
                let lease = try take(key: key, pod: pod, poolName: request.pool, now: now)
                created.append(lease)
                result.append(lease)
            } catch {
                rollback()
                throw error
            }
        }
        return (result, created)
    }

    private mutating func take(key: AllocationKey, pod: PodRef, poolName: String, now: Double) throws(IPAMError) -> Lease {
        guard let pool = pools[poolName], let allocator = allocators[poolName] else { throw .unknownPool(poolName) }
        expireQuarantine(pool: poolName, now: now)
        let inUse = used[poolName] ?? [:]
        let resting = quarantine[poolName] ?? [:]
        // Quarantine is a preference: a recently released address is given again only when nothing else is free, and
        // then the one released longest ago (a pool under churn must not refuse pods while it has addresses).
        guard let offset = allocator.next(after: cursors[poolName] ?? 0,
                                          isTaken: { inUse[$0] != nil || resting[$0] != nil },
                                          takenCount: inUse.count + resting.count)
            ?? resting.filter({ inUse[$0.key] == nil && $0.key >= allocator.firstUsable && $0.key <= allocator.lastUsable
                    && !allocator.isExcluded($0.key) })  // the pool may have changed since the release
                .min(by: { ($0.value, $0.key) < ($1.value, $1.key) })?.key
        else { throw .poolExhausted(pool: poolName, inUse: inUse.count, quarantined: resting.count) }
        let lease = Lease(key: key, pod: pod, pool: poolName, interfaceName: pool.interfaceName,
                          address: allocator.address(at: offset), prefixLength: pool.podPrefix)
        insert(lease, offset: offset)
        cursors[poolName] = offset
        return lease
    }

    mutating func insert(_ lease: Lease, offset: UInt128) {
        let lease = interned(lease)
        leases[lease.key] = lease
        used[lease.pool, default: [:]][offset] = lease.key
        quarantine[lease.pool]?[offset] = nil
    }

    /// Removes leases created by a call that then failed (the cursor is restored by the caller).
    private mutating func undo(_ created: [Lease]) {
        for lease in created {
            leases[lease.key] = nil
            if let offset = allocators[lease.pool]?.offset(of: lease.address) { used[lease.pool]?[offset] = nil }
        }
    }

    private mutating func expireQuarantine(pool: String, now: Double) {
        guard let resting = quarantine[pool], !resting.isEmpty else { return }
        quarantine[pool] = resting.filter { now - $0.value < quarantineSeconds }
    }

    // MARK: - Release

    /// Releases the keys (those that exist); their addresses rest in quarantine from `now`.
    @discardableResult
    public mutating func release(_ keys: [AllocationKey], now: Double) -> [Lease] {
        var released: [Lease] = []
        for key in keys {
            guard let lease = leases.removeValue(forKey: key) else { continue }
            // The pool may be gone from the configuration: then find the offset by its holder.
            let offset = allocators[lease.pool]?.offset(of: lease.address)
                ?? used[lease.pool]?.first(where: { $0.value == key })?.key
            if let offset {
                used[lease.pool]?[offset] = nil
                quarantine[lease.pool, default: [:]][offset] = now
            }
            released.append(lease)
        }
        return released.sorted { $0.key < $1.key }
    }

    /// Keys of a container's leases (all networks when `network` is nil; one interface when `ifName` is given).
    public func keys(containerID: String, network: String? = nil, ifName: String? = nil) -> [AllocationKey] {
        leases.keys.filter { key in
            key.containerID == containerID && (network.map { key.network == $0 } ?? true)
                && (ifName.map { key.ifName == $0 } ?? true)
        }.sorted()
    }

    /// Keys of one attachment: `(c, net1)` and the per-NIC keys `(c, net1-0)`, `(c, net1-1)`, … of a multi-NIC ADD.
    public func keys(containerID: String, network: String, attachment: String) -> [AllocationKey] {
        leases.keys.filter { key in
            key.containerID == containerID && key.network == network && key.belongs(toAttachment: attachment)
        }.sorted()
    }

    /// Keys of a network that are not among the valid (containerID, ifName) attachments (CNI GC). A valid
    /// attachment `(c, net1)` also covers the per-NIC keys `(c, net1-0)`, `(c, net1-1)`, … of a multi-NIC ADD.
    public func staleKeys(network: String, valid: Set<AllocationKey>) -> [AllocationKey] {
        let bases = Dictionary(grouping: valid.filter { $0.network == network }, by: \.containerID)
        return leases.keys.filter { key in
            // A pod-keyed lease names no container the runtime could list: only its pod's DEL or the sweep ends it.
            guard key.network == network, !key.isPodKeyed, !key.outlivesPods else { return false }
            let covered = bases[key.containerID]?.contains { key.belongs(toAttachment: $0.ifName) }
            return !(covered ?? false)
        }.sorted()
    }

    /// Keys of a pod's pod-keyed leases on a network (``AllocationKey/isPodKeyed``: adopted from the original, or
    /// allocated through its `/allocate`), which no container ID names.
    public func podKeyedKeys(network: String, pod: PodRef) -> [AllocationKey] {
        let containerID = AllocationKey.podContainerID(namespace: pod.namespace, name: pod.name)
        return leases.keys.filter { $0.network == network && $0.containerID == containerID }.sorted()
    }

    /// Keys of the pod-keyed leases (any network) of the pods named `namespace/name`.
    public func podKeyedKeys(ofPodNames names: Set<String>) -> [AllocationKey] {
        leases.keys.filter { $0.isPodKeyed && names.contains($0.containerID) }.sorted()
    }

    /// Keys of every lease held by one of these pods (by UID; leases without a UID are never matched), but those
    /// an IPAMClaim keeps.
    public func keys(ofPods uids: Set<String>) -> [AllocationKey] {
        leases.values.filter { !$0.key.outlivesPods && !$0.pod.uid.isEmpty && uids.contains($0.pod.uid) }.map(\.key).sorted()
    }

    /// Keys of the leases an IPAMClaim keeps on a network (``AllocationKey/claimContainerID(namespace:name:)``).
    public func claimKeys(network: String? = nil, claim containerID: String) -> [AllocationKey] {
        leases.keys.filter { $0.containerID == containerID && (network == nil || $0.network == network) }.sorted()
    }

    // MARK: - Queries

    /// Leases of one pool, by address.
    public func leases(inPool pool: String) -> [Lease] {
        leases.values.filter { $0.pool == pool }.sorted { $0.address < $1.address }
    }

    /// Addresses in use and in quarantine in a pool.
    public func usage(pool: String, now: Double) -> (inUse: Int, quarantined: Int, capacity: UInt128) {
        let resting = (quarantine[pool] ?? [:]).filter { now - $0.value < quarantineSeconds }.count
        return ((used[pool] ?? [:]).count, resting, allocators[pool]?.usableCount ?? 0)
    }

    // MARK: - Snapshot

    /// Everything needed to rebuild the state at `now`: quarantine entries that have expired are left out, so two
    /// states that differ only in expired entries have equal snapshots.
    public func snapshot(now: Double) -> IPAMSnapshot {
        IPAMSnapshot(pools: pools.values.sorted { $0.name < $1.name }, leases: leases.values.sorted { $0.key < $1.key },
                     adopted: adopted.isEmpty ? nil : adopted.sorted(),
                     quarantine: quarantine.flatMap { pool, entries in
                         entries.filter { now - $0.value < quarantineSeconds }
                             .map { IPAMSnapshot.Resting(pool: pool, offset: String($0.key), releasedAt: $0.value) }
                     }.sorted { ($0.pool, $0.offset) < ($1.pool, $1.offset) },
                     cursors: cursors.mapValues { String($0) })
    }

    /// Rebuilds a state from a snapshot.
    public init(snapshot: IPAMSnapshot, quarantineSeconds: Double) {
        self.init(quarantineSeconds: quarantineSeconds)
        setPools(snapshot.pools)
        for lease in snapshot.leases { restore(lease) }
        for resting in snapshot.quarantine {
            if let offset = UInt128(resting.offset) { quarantine[resting.pool, default: [:]][offset] = resting.releasedAt }
        }
        cursors = snapshot.cursors.compactMapValues { UInt128($0) }
        adopted = Set(snapshot.adopted ?? [])
    }

    /// Re-inserts a lease read back from the journal.
    mutating func restore(_ lease: Lease) {
        let lease = interned(lease)
        leases[lease.key] = lease
        if let offset = allocators[lease.pool]?.offset(of: lease.address) {
            used[lease.pool, default: [:]][offset] = lease.key
            quarantine[lease.pool]?[offset] = nil
            cursors[lease.pool] = offset
        }
    }

    /// `lease` with the names every lease of its pool repeats (pool, network, host NIC) sharing the pool's copy:
    /// a name longer than 15 bytes is a heap allocation per lease otherwise (thousands of copies of one string).
    func interned(_ lease: Lease) -> Lease {
        guard let pool = pools[lease.pool] else { return lease }
        var lease = lease
        lease.pool = pool.name
        if lease.key.network == pool.network { lease.key.network = pool.network }
        if lease.interfaceName == pool.interfaceName { lease.interfaceName = pool.interfaceName }
        return lease
    }
}

/// A serialisable copy of ``IPAMState``.
public struct IPAMSnapshot: Codable, Sendable, Hashable {
    public struct Resting: Codable, Sendable, Hashable {
        public var pool: String
        /// Offset as decimal text (IPv6 offsets exceed 64 bits).
        public var offset: String
        public var releasedAt: Double
    }

    public var pools: [PoolBlock]
    public var leases: [Lease]
    /// ``IPAMState/adopted`` (absent in journals written before takeovers existed).
    public var adopted: [String]?
    public var quarantine: [Resting]
    public var cursors: [String: String]
}
