import MultiNICCore

/// The IPPools each rendered network wants, in memory: what the pool pushes read, so a node's daemon serves a network
/// as soon as it is rendered, before (and whether or not) the IPPool objects are written. Networks not rendered since
/// the operator started are read from the stored IPPools instead.
public actor DesiredPools {
    private var byNetwork: [String: [IPPool]] = [:]
    /// The same pools by node, then network (a node's push reads only its own).
    private var byNode: [String: [String: [IPPool]]] = [:]
    /// Networks deleted since start: their stored pools are never pushed again.
    private var removed: Set<String> = []

    private func index(network: String, old: [IPPool]?, new: [IPPool]) {
        for node in Set((old ?? []).map(\.spec.hostName)) { byNode[node]?[network] = nil }
        for (node, pools) in Dictionary(grouping: new, by: \.spec.hostName) { byNode[node, default: [:]][network] = pools }
    }

    public init() {}

    /// Records a network's pools; returns the nodes whose pools of this network changed (every node of the network
    /// the first time).
    public func set(network: String, pools: [IPPool]) -> Set<String> {
        let before = byNetwork[network]
        byNetwork[network] = pools
        index(network: network, old: before, new: pools)
        removed.remove(network)
        guard let before else { return Set(pools.map(\.spec.hostName)) }
        let old = Dictionary(before.map { ($0.metadata.name, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(pools.map { ($0.metadata.name, $0) }, uniquingKeysWith: { first, _ in first })
        var changed: Set<String> = []
        for (name, pool) in new where old[name] != pool { changed.insert(pool.spec.hostName) }
        for (name, pool) in old where new[name] == nil { changed.insert(pool.spec.hostName) }
        return changed
    }

    /// Forgets a deleted network; returns the nodes it had pools on.
    public func remove(network: String) -> Set<String> {
        removed.insert(network)
        let old = byNetwork.removeValue(forKey: network) ?? []
        index(network: network, old: old, new: [])
        return Set(old.map(\.spec.hostName))
    }

    /// The pools of a rendered network, or nil when it has not been rendered (or was deleted).
    public func pools(network: String) -> [IPPool]? { byNetwork[network] }

    /// A node's pools of every network: the rendered networks' from memory, the others' from `stored`.
    public func pools(node: String, stored: [IPPool]) -> [IPPool] {
        let rendered = (byNode[node] ?? [:]).values.flatMap { $0 }
        let others = stored.filter { byNetwork[$0.spec.netAttachDef] == nil && !removed.contains($0.spec.netAttachDef) }
        return (rendered + others).sorted { $0.metadata.name < $1.metadata.name }
    }
}

/// Writes a network's IPPool objects from ``DesiredPools`` (keeping the allocations the daemons recorded) and deletes
/// those no longer wanted: a background mirror, off the path that makes a network usable. One worker, and its
/// requests are `background` (``RequestPriority``): they take the client's budget only when no other request waits.
public struct IPPoolMirrorReconciler: Reconciler {
    let store: any ResourceStore
    let desired: DesiredPools

    public init(store: any ResourceStore, desired: DesiredPools) {
        self.store = store
        self.desired = desired
    }

    public func reconcile(_ network: String) async -> ReconcileResult {
        // Its requests wait while any foreground request (CIDR, NAD, status, pushes' reads) wants the budget.
        await RequestPriority.$current.withValue(.background) { await mirror(network) }
    }

    private func mirror(_ network: String) async -> ReconcileResult {
        // Not rendered, or deleted: the network reconciler's clean-up owns its pools.
        guard let wanted = await desired.pools(network: network) else { return .done }
        do {
            let existing = try await store.list(IPPoolSpec.self, namespace: nil, labels: [IPPoolSpec.networkLabel: network])
            let byName = Dictionary(existing.map { ($0.metadata.name, $0) }, uniquingKeysWith: { first, _ in first })
            for var pool in wanted {
                pool.spec.allocations = byName[pool.metadata.name]?.spec.allocations ?? []
                // What a takeover left for the daemons to adopt stays with the pool (its pushes carry it).
                if let adopt = byName[pool.metadata.name]?.metadata.annotations?[IPPoolSpec.adoptAnnotation] {
                    pool.metadata.annotations = (pool.metadata.annotations ?? [:]).merging([IPPoolSpec.adoptAnnotation: adopt]) { _, new in new }
                }
                // The network may have gone while this ran: the clean-up wins (it removed the desired pools first).
                guard await desired.pools(network: network) != nil else { return .done }
                // `apply` writes nothing when the stored pool already says all this.
                _ = try await store.apply(pool)
            }
            let names = Set(wanted.map(\.metadata.name))
            for stale in existing where !names.contains(stale.metadata.name) {
                try await store.delete(IPPoolSpec.self, name: stale.metadata.name, namespace: nil)
            }
            return .done
        } catch {
            return ReconcileLog.retry("IPPool mirror of \(network)", error, after: .seconds(5))
        }
    }
}
