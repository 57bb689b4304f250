import MultiNICCore
import MultiNICRender

/// The operator's control loop on any store: four reconcilers (networks, host interfaces, pools per node, routes per
/// node), each behind a deduplicating work queue, fed by watches on the store and by each other.
public final class MultiNICController: Sendable {
    public let store: any ResourceStore
    public let fleet: any DaemonFleet
    public let ledger = RouteLedger()
    public let networks = WorkQueue<String>()
    public let hosts = WorkQueue<String>()
    public let pools = WorkQueue<String>()
    public let routes = WorkQueue<String>()
    /// Networks whose IPPool objects are to be written (the background mirror).
    public let mirror = WorkQueue<String>()
    /// The pools of every rendered network, pushed to daemons before the mirror writes them.
    public let desiredPools = DesiredPools()
    /// Nodes whose leases are checked against live pods (only with a pod directory).
    public let leaks = WorkQueue<String>()
    let poolPusher: PoolPushReconciler
    let renderer: NetworkRenderer
    let hostPeriod: Duration
    let leakSweep: LeakSweepReconciler?

    /// With `pods`, every node's leases are swept every `sweepPeriod` (at most two minutes) for pods that are gone.
    public init(store: any ResourceStore, fleet: any DaemonFleet, renderer: NetworkRenderer, hostPeriod: Duration = .seconds(60),
                pods: (any PodDirectory)? = nil, sweepPeriod: Duration = .seconds(60),
                onLeakSweep: @escaping @Sendable (String, LeakSweepOutcome) async -> Void = { _, _ in }) {
        self.store = store
        self.fleet = fleet
        self.renderer = renderer
        self.hostPeriod = hostPeriod
        poolPusher = PoolPushReconciler(store: store, fleet: fleet, desired: desiredPools)
        leakSweep = pods.map { LeakSweepReconciler(fleet: fleet, pods: $0, period: sweepPeriod, onOutcome: onLeakSweep) }
    }

    /// Runs until the task is cancelled.
    public func run(workers: Int = 4) async {
        let networkReconciler = NetworkReconciler(
            store: store, renderer: renderer, fleet: fleet, ledger: ledger, desiredPools: desiredPools,
            poolsChanged: { [pools] nodes in for node in nodes { await pools.add(node) } },
            routesChanged: { [routes] nodes in for node in nodes { await routes.add(node) } },
            mirror: { [mirror] network in await mirror.add(network) })
        let routeReconciler = RouteReconciler(store: store, fleet: fleet, ledger: ledger,
                                              statusChanged: { [networks] names in for name in names { await networks.add(name) } })
        var tasks = runWorkers(networkReconciler, queue: networks, workers: workers)
        tasks += runWorkers(HostInterfaceReconciler(store: store, fleet: fleet, period: hostPeriod), queue: hosts, workers: workers)
        tasks += runWorkers(poolPusher, queue: pools, workers: workers)
        tasks += runWorkers(routeReconciler, queue: routes, workers: workers)
        tasks += runWorkers(IPPoolMirrorReconciler(store: store, desired: desiredPools), queue: mirror, workers: 1)
        if let leakSweep { tasks += runWorkers(leakSweep, queue: leaks, workers: 1) }
        tasks += await watches()
        await seed()
        let running = tasks
        await withTaskCancellationHandler {
            for task in running { await task.value }
        } onCancel: { [networks, hosts, pools, routes, leaks, mirror] in
            for task in running { task.cancel() }
            Task {
                await networks.shutdown()
                await hosts.shutdown()
                await pools.shutdown()
                await routes.shutdown()
                await leaks.shutdown()
                await mirror.shutdown()
            }
        }
    }

    /// A daemon (re)started: discover again and push its pools and routes even if nothing changed.
    public func daemonStarted(_ node: String) async {
        await poolPusher.forget(node)
        await ledger.reset(node: node)
        await hosts.add(node)
        await pools.add(node)
        await routes.add(node)
        if leakSweep != nil { await leaks.add(node) }
    }

    /// True when no queue has work waiting or running.
    public func isIdle() async -> Bool {
        let idle = [await networks.isIdle, await hosts.isIdle, await pools.isIdle, await routes.isIdle, await mirror.isIdle]
        return idle.allSatisfy { $0 }
    }

    private func seed() async {
        let known = Set((try? await store.list(NodeSpec.self).map(\.metadata.name)) ?? []).union(await fleet.nodes())
        for node in known.sorted() {
            await hosts.add(node)
            await pools.add(node)
            await routes.add(node)
            if leakSweep != nil { await leaks.add(node) }
        }
        for network in (try? await store.list(MultiNicNetworkSpec.self)) ?? [] { await networks.add(network.metadata.name) }
    }

    private func watches() async -> [Task<Void, Never>] {
        let networkEvents = await store.watch(MultiNicNetworkSpec.self)
        let hostEvents = await store.watch(HostInterfaceSpec.self)
        let namespaceEvents = await store.watch(NamespaceSpec.self)
        let nodeEvents = await store.watch(NodeSpec.self)
        let store = store
        return [
            Task { [networks] in for await event in networkEvents { await networks.add(event.key.name) } },
            Task { [networks] in
                // Any host change may move CIDRs: every network recomputes (coalesced by the queue).
                for await _ in hostEvents {
                    for network in (try? await store.list(MultiNicNetworkSpec.self)) ?? [] { await networks.add(network.metadata.name) }
                }
            },
            Task { [networks] in
                for await _ in namespaceEvents {
                    for network in (try? await store.list(MultiNicNetworkSpec.self)) ?? [] { await networks.add(network.metadata.name) }
                }
            },
            Task { [hosts, leaks, sweeping = leakSweep != nil] in
                for await event in nodeEvents {
                    await hosts.add(event.key.name)
                    if sweeping, case .added = event { await leaks.add(event.key.name) }
                }
            },
        ]
    }
}
