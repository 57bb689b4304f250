import MultiNICCore

/// One HostInterface per node from its daemon's discovery. A node without a Node object loses its HostInterface
/// (and so its CIDR blocks); a daemon that does not answer, or answers with no interfaces while some are recorded,
/// changes nothing (upstream #78: a restarting daemon must not reshuffle CIDRs).
public struct HostInterfaceReconciler: Reconciler {
    let store: any ResourceStore
    let fleet: any DaemonFleet
    let period: Duration

    public init(store: any ResourceStore, fleet: any DaemonFleet, period: Duration = .seconds(60)) {
        self.store = store
        self.fleet = fleet
        self.period = period
    }

    public func reconcile(_ node: String) async -> ReconcileResult {
        do {
            guard try await store.get(NodeSpec.self, name: node) != nil else {
                try await store.delete(HostInterfaceSpec.self, name: node, namespace: nil)
                try await deleteResourceSlices(of: node)
                return .done
            }
            let interfaces: [InterfaceInfo]
            do {
                interfaces = try await fleet.interfaces(node: node)
            } catch {
                return ReconcileLog.retry("discovery of \(node)", error, after: .seconds(5))
            }
            let current = try await store.get(HostInterfaceSpec.self, name: node)
            if interfaces.isEmpty, let current, !current.spec.interfaces.isEmpty { return .requeue(after: period) }
            let desired = HostInterface(metadata: ObjectMeta(name: node, labels: [IPPoolSpec.hostLabel: node]),
                                        spec: HostInterfaceSpec(hostName: node, interfaces: interfaces))
            try await store.apply(desired)
            return .requeue(after: period)
        } catch {
            return ReconcileLog.retry("HostInterface \(node)", error, after: .seconds(2))
        }
    }
}

extension HostInterfaceReconciler {
    /// Deletes the ResourceSlices multi-nicd published for a node that is gone (its daemon cannot any more): the
    /// scheduler would place pods on NICs that no longer exist.
    func deleteResourceSlices(of node: String) async throws(StoreError) {
        let slices = try await store.listObjects(apiVersion: "resource.k8s.io/v1", kind: "ResourceSlice", labels: DRANames.sliceLabels)
        for slice in slices where slice.objectValue?["spec"]?.objectValue?["nodeName"]?.stringValue == node {
            guard let name = slice.objectValue?["metadata"]?.objectValue?["name"]?.stringValue else { continue }
            try await store.deleteObject(ResourceReference(apiVersion: "resource.k8s.io/v1", kind: "ResourceSlice", name: name))
        }
    }
}

/// Pushes a node's IPPools (of every network) to its daemon, whenever they change or the daemon restarts: rendered
/// networks' pools from ``DesiredPools`` (not waiting for the IPPool objects), the others' from the store.
public struct PoolPushReconciler: Reconciler {
    let store: any ResourceStore
    let fleet: any DaemonFleet
    let desired: DesiredPools
    let memory = PushMemory<[IPPool]>()

    public init(store: any ResourceStore, fleet: any DaemonFleet, desired: DesiredPools = DesiredPools()) {
        self.store = store
        self.fleet = fleet
        self.desired = desired
    }

    /// Forgets what the node has (its daemon restarted).
    public func forget(_ node: String) async { await memory.forget(node) }

    public func reconcile(_ node: String) async -> ReconcileResult {
        do {
            // A pool the daemon would refuse (written by hand or by another tool) is left out, not pushed: one bad
            // object must not stop the node's other pools.
            let stored = try await store.list(IPPoolSpec.self, namespace: nil, labels: [IPPoolSpec.hostLabel: node])
            var pools = await desired.pools(node: node, stored: stored).filter { IPPoolSpec.problem(of: $0) == nil }
            // A taken-over cluster's allocations go with their pool (the daemon adopts each once).
            let adopting = Dictionary(stored.compactMap { pool in
                pool.metadata.annotations?[IPPoolSpec.adoptAnnotation].map { (pool.metadata.name, $0) }
            }, uniquingKeysWith: { first, _ in first })
            for index in pools.indices {
                guard let value = adopting[pools[index].metadata.name] else { continue }
                pools[index].metadata.annotations = (pools[index].metadata.annotations ?? [:]).merging([IPPoolSpec.adoptAnnotation: value]) { _, new in new }
            }
            guard await memory.last(node) != pools else { return .done }
            try await fleet.setPools(node: node, pools)
            await memory.remember(node, pools)
            return .done
        } catch {
            return ReconcileLog.retry("pool push to \(node)", error, after: .seconds(2))
        }
    }
}

/// Pushes every L3 network's full route set to a node and records the answers for the networks' route status;
/// networks that are gone have their routes removed.
public struct RouteReconciler: Reconciler {
    let store: any ResourceStore
    let fleet: any DaemonFleet
    let ledger: RouteLedger
    /// Networks whose route status may have changed.
    let statusChanged: @Sendable (Set<String>) async -> Void
    /// One route index per CIDR version, shared by every node's reconcile.
    let indexes = RouteIndexCache()

    public init(store: any ResourceStore, fleet: any DaemonFleet, ledger: RouteLedger,
                statusChanged: @escaping @Sendable (Set<String>) async -> Void) {
        self.store = store
        self.fleet = fleet
        self.ledger = ledger
        self.statusChanged = statusChanged
    }

    public func reconcile(_ node: String) async -> ReconcileResult {
        let cidrs: [CIDR]
        do {
            cidrs = try await store.list(CIDRSpec.self).filter { RoutePlan.needsRoutes($0.spec) }
        } catch {
            return ReconcileLog.retry("routes of \(node)", error, after: .seconds(2))
        }
        await indexes.keep(Set(cidrs.map(\.name)))
        var touched: Set<String> = []
        var retry = false
        var live: Set<String> = []
        for cidr in cidrs {
            let index = await indexes.index(cidr)
            guard index.hosts.contains(node) else { continue }
            live.insert(cidr.name)
            let request = index.request(node: node)
            if await ledger.isApplied(request, network: cidr.name, node: node) { continue }
            let outcome: RouteLedger.Outcome
            do {
                let answer = try await fleet.setRoutes(node: node, request)
                outcome = answer.success ? .applied : .failed(answer.msg)
            } catch {
                outcome = .failed(error.description)
            }
            retry = retry || outcome != .applied
            if await ledger.record(network: cidr.name, node: node, request: request, outcome: outcome) { touched.insert(cidr.name) }
        }
        for gone in await ledger.networks(on: node) where !live.contains(gone) {
            try? await fleet.deleteRoutes(node: node, network: gone)
            await ledger.forget(network: gone, node: node)
        }
        if !touched.isEmpty { await statusChanged(touched) }
        return retry ? .requeue(after: .seconds(5)) : .done
    }
}

/// The last value pushed per node, so unchanged state is not pushed again.
actor PushMemory<Value: Equatable & Sendable> {
    private var values: [String: Value] = [:]

    func last(_ node: String) -> Value? { values[node] }
    func remember(_ node: String, _ value: Value) { values[node] = value }
    func forget(_ node: String) { values[node] = nil }
}
