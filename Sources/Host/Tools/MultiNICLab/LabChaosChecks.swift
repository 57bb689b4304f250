import Foundation
import MultiNICCore
import MultiNICDaemonClient
import Synchronization

/// The invariants of a chaos run. While it runs: no address held by two live pods, and every host's journal holds
/// exactly its live pods' addresses (pods with a CNI call running, a DEL owed or a release queued aside). After it:
/// in-use counts equal live addresses, routes in sync, every live pod reaches every other on every NIC, and nothing
/// left once every pod is deleted.
struct ChaosChecks: Sendable {
    let record: LabRecord
    let state: ChurnState
    /// `multinicctl`, whose `lab ping` sends one source's echoes to all its targets at once; nil: one `ping` per target.
    var multinicctl: String? = nil

    /// Addresses two live pods hold.
    func duplicates() -> [String] {
        var holders: [String: [String]] = [:]
        for pod in state.snapshot.live.values {
            for address in pod.addresses where !address.isEmpty { holders[address, default: []].append(pod.name) }
        }
        return holders.filter { $0.value.count > 1 }.sorted { $0.key < $1.key }
            .map { "address \($0.key) held by pods \($0.value.sorted().joined(separator: " and "))" }
    }

    /// Differences between a host's journal and its live pods; nil when the daemon does not answer.
    func journalDifferences(host: Int) -> [String]? {
        let before = state.snapshot
        guard let leases = try? DaemonClient(socketPath: record.hosts[host].socket, timeoutSeconds: 2).podLeases() else { return nil }
        let after = state.snapshot
        let queued = pendingReleases(host: host)
        let unsettled = before.inFlight.union(after.inFlight).union(before.toDelete.values.map(\.containerID))
            .union(after.toDelete.values.map(\.containerID))
        let node = record.hosts[host].node
        // `lab up`'s pods are live too (their UID is their container ID).
        let attached = record.pods.filter { $0.host == node }.map { ($0.containerID, Set($0.addresses)) }
        let churned = after.live.values.filter { $0.host == host && before.live[$0.name] != nil }.map { ($0.containerID, Set($0.addresses)) }
        let expected = Dictionary(attached + churned) { first, _ in first }
        var held: [String: Set<String>] = [:]
        for pod in leases.pods where pod.namespace == "default" && !pod.uid.isEmpty { held[pod.uid, default: []].formUnion(pod.addresses) }
        var differences: [String] = []
        for (uid, addresses) in expected.sorted(by: { $0.key < $1.key }) where !unsettled.contains(uid) {
            let missing = addresses.subtracting(held[uid] ?? [])
            if !missing.isEmpty { differences.append("live pod \(uid): \(missing.sorted().joined(separator: ", ")) not in the journal of host \(host)") }
        }
        let knownBefore = Set(before.live.values.map(\.containerID)).union(before.existing.values.map(\.containerID))
        for (uid, addresses) in held.sorted(by: { $0.key < $1.key })
        where expected[uid] == nil && !unsettled.contains(uid) && !knownBefore.contains(uid) && !queued.contains(where: { $0.contains(uid) }) {
            differences.append("the journal of host \(host) holds \(addresses.sorted().joined(separator: ", ")) for \(uid), which is no live pod")
        }
        return differences
    }

    /// File names in the host's queue of releases the CNI could not hand over.
    func pendingReleases(host: Int) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: PendingReleases.directory(inCNIState: record.hosts[host].cniStateDirectory))) ?? []
    }

    /// Pools' in-use counts against live addresses, and route sync, per host; empty when all agree.
    func convergence() -> [String] {
        let live = state.snapshot.live.values
        var problems: [String] = []
        for (index, host) in record.hosts.enumerated() {
            guard let status = try? DaemonClient(socketPath: host.socket, timeoutSeconds: 2).status() else {
                problems.append("host \(index): multi-nicd does not answer")
                continue
            }
            let inUse = status.pools.filter { $0.network == record.network }.reduce(0) { $0 + $1.inUse }
            let expected = live.filter { $0.host == index }.reduce(0) { $0 + $1.addresses.count }
                + record.pods.filter { $0.host == host.node }.reduce(0) { $0 + $1.addresses.count }
            if inUse != expected { problems.append("host \(index): \(inUse) addresses in use, live pods hold \(expected)") }
            if status.routesInSync[record.network] != true { problems.append("host \(index): routes of \(record.network) not in sync") }
        }
        return problems
    }

    /// Pairs of live pods on different hosts that do not reach each other on a NIC they share. One process per source
    /// pod and NIC (`lab ping`: all its echoes at once; else a shell loop of pings), sources in parallel.
    func unreachable() -> [String] {
        let pods = state.snapshot.live.values.sorted { $0.name < $1.name }
        var jobs: [(source: ChurnState.Pod, nic: Int, targets: [(String, String)])] = []
        for source in pods {
            for nic in source.addresses.indices {
                let targets = pods.filter { $0.host != source.host && nic < $0.addresses.count }.map { ($0.name, $0.addresses[nic]) }
                if !targets.isEmpty { jobs.append((source, nic, targets)) }
            }
        }
        let planned = jobs
        // Each echo makes an entry at its source and one at its target, in the kernel's one table for all namespaces.
        let (restore, note) = LabNeighbourTable.reserve(entries: 2 * planned.reduce(0) { $0 + $1.targets.count })
        defer { restore() }
        if let note { FileHandle.standardError.write(Data((note + "\n").utf8)) }
        let failures = Mutex<[String]>([])
        let script = #"src=$1; shift; for a in "$@"; do /usr/bin/ping -c 1 -W 1 -I "$src" "$a" >/dev/null 2>&1 || echo "$a"; done"#
        let allIPv4 = planned.allSatisfy { job in ([job.source.addresses[job.nic]] + job.targets.map(\.1)).allSatisfy { !$0.contains(":") } }
        DispatchQueue.concurrentPerform(iterations: planned.count) { index in
            let job = planned[index]
            let source = job.source.addresses[job.nic], addresses = job.targets.map(\.1)
            let command = if let multinicctl, allIPv4 {
                [multinicctl, "lab", "ping", "--from", source] + addresses
            } else {
                ["/bin/sh", "-c", script, "ping-mesh", source] + addresses
            }
            let output = (try? LabShell.inNamespace(job.source.namespace, command))?.output ?? addresses.joined(separator: "\n")
            let failed = Set(output.split(separator: "\n").map(String.init))
            let lines = job.targets.filter { failed.contains($0.1) }.map { "\(job.source.name) → \($0.0) net1-\(job.nic) (\($0.1))" }
            if !lines.isEmpty { failures.withLock { $0 += lines } }
        }
        return failures.withLock { $0 }.sorted()
    }

    /// What is left on the hosts once every chaos pod is gone: leases of chaos pods, queued releases, pod namespaces,
    /// links other than the hosts' own.
    func leftovers() -> [String] {
        var left: [String] = []
        let namespaces = ((try? LabShell.ip("netns", "list")) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix(LabNames.namespace(lab: record.name, "c")) }
        if !namespaces.isEmpty { left.append("pod namespaces: \(namespaces.sorted().joined(separator: ", "))") }
        for (index, host) in record.hosts.enumerated() {
            if let leases = try? DaemonClient(socketPath: host.socket, timeoutSeconds: 2).podLeases() {
                let stray = leases.pods.filter { $0.name.hasPrefix("chaos-") }
                if !stray.isEmpty { left.append("host \(index) leases: \(stray.map { "\($0.name) \($0.addresses)" }.joined(separator: "; "))") }
            } else {
                left.append("host \(index): multi-nicd does not answer")
            }
            let queued = pendingReleases(host: index)
            if !queued.isEmpty { left.append("host \(index) queued releases: \(queued.joined(separator: ", "))") }
            let links = ((try? LabShell.ip("-n", host.namespace, "-o", "link", "show")) ?? "").split(separator: "\n").compactMap { line in
                line.split(separator: ":").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init) ?? "" }
            }.filter { !$0.isEmpty && $0 != "lo" && !$0.hasPrefix("eth") }
            if !links.isEmpty { left.append("host \(index) links: \(links.joined(separator: ", "))") }
        }
        return left
    }
}
