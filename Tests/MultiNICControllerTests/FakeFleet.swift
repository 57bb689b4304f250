import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
import MultiNICKube
import MultiNICKubeFake
import MultiNICManifests
import MultiNICPluginHost
import MultiNICRender
import MultiNICTestSupport

/// Daemons in-process: each node has interfaces (eth1 on 10.0.1.0/24, eth2 on 10.0.2.0/24 …) and records what it
/// was sent. Nodes can be made to fail route pushes or to answer with no interfaces (a restarting daemon).
actor FakeFleet: DaemonFleet {
    var interfacesByNode: [String: [InterfaceInfo]] = [:]
    var pools: [String: [IPPool]] = [:]
    var routes: [String: [String: L3Request]] = [:]
    var routeFailures: [String: String] = [:]
    var emptyDiscovery: Set<String> = []
    var poolPushes = 0
    var routePushes = 0
    /// Pods holding leases, by node; and the release requests received.
    var leaseHolders: [String: [PodLeases]] = [:]
    var releaseRequests: [String: [PodReleaseRequest]] = [:]

    static func interfaces(host: Int, nics: Int) -> [InterfaceInfo] {
        (1...nics).map { nic in
            InterfaceInfo(interfaceName: "eth\(nic)", netAddress: "10.0.\(nic).0/24", hostIP: "10.0.\(nic).\(10 + host)",
                          vendor: "8086", product: "1572", pciAddress: "0000:0\(nic):00.0")
        }
    }

    func add(node: String, host: Int, nics: Int = 2) { interfacesByNode[node] = Self.interfaces(host: host, nics: nics) }
    func remove(node: String) { interfacesByNode[node] = nil }
    func failRoutes(on node: String, _ reason: String?) { routeFailures[node] = reason }
    func discoverNothing(on node: String, _ flag: Bool) { if flag { emptyDiscovery.insert(node) } else { emptyDiscovery.remove(node) } }

    func nodes() -> [String] { interfacesByNode.keys.sorted() }

    func interfaces(node: String) throws(FleetError) -> [InterfaceInfo] {
        guard let found = interfacesByNode[node] else { throw .unreachable(node: node, reason: "no daemon") }
        return emptyDiscovery.contains(node) ? [] : found
    }

    func setPools(node: String, _ pools: [IPPool]) throws(FleetError) {
        guard interfacesByNode[node] != nil else { throw .unreachable(node: node, reason: "no daemon") }
        self.pools[node] = pools
        poolPushes += 1
    }

    func setRoutes(node: String, _ request: L3Request) throws(FleetError) -> L3Response {
        guard interfacesByNode[node] != nil else { throw .unreachable(node: node, reason: "no daemon") }
        routePushes += 1
        if let reason = routeFailures[node] { return L3Response(success: false, msg: reason) }
        routes[node, default: [:]][request.name] = request
        return L3Response(success: true, msg: "")
    }

    func deleteRoutes(node: String, network: String) throws(FleetError) {
        routes[node]?[network] = nil
    }

    func hold(_ pods: [PodLeases], on node: String) { leaseHolders[node] = pods }

    func podLeases(node: String) throws(FleetError) -> PodLeaseSnapshot {
        guard interfacesByNode[node] != nil else { throw .unreachable(node: node, reason: "no daemon") }
        return PodLeaseSnapshot(takenAt: 1000, pods: leaseHolders[node] ?? [])
    }

    func releasePods(node: String, _ request: PodReleaseRequest) throws(FleetError) -> [IPAllocation] {
        releaseRequests[node, default: []].append(request)
        let released = (leaseHolders[node] ?? []).filter { request.podUIDs.contains($0.uid) }
        leaseHolders[node] = (leaseHolders[node] ?? []).filter { !request.podUIDs.contains($0.uid) }
        return released.flatMap { $0.addresses.map { IPAllocation(interface: "eth1", ip: $0, block: "24") } }
    }
}

/// A controller on an embedded store with a fake fleet, running until the test ends.
/// Where a harness keeps its objects: the embedded store, or the Kubernetes store (with informers) on the in-process
/// API server — the same scenarios run on both.
enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case embedded, kubernetes
    var description: String { rawValue }
}

final class ControllerHarness: Sendable {
    let store: any ResourceStore
    let fleet: FakeFleet
    let controller: MultiNICController
    let task: Task<Void, Never>
    let server: FakeAPIServer?

    init(store: (any ResourceStore)? = nil, fleet: FakeFleet = FakeFleet(), server: FakeAPIServer? = nil) throws {
        self.store = try store ?? EmbeddedStore()
        self.fleet = fleet
        self.server = server
        controller = MultiNICController(store: self.store, fleet: fleet, renderer: NetworkRenderer(registry: try BuiltPlugins.registry()),
                                        hostPeriod: .milliseconds(200))
        let controller = controller
        task = Task { await controller.run(workers: 2) }
    }

    /// A harness on a fresh store of `kind`.
    static func start(_ kind: StoreKind, fleet: FakeFleet = FakeFleet()) async throws -> ControllerHarness {
        switch kind {
        case .embedded:
            return try ControllerHarness(fleet: fleet)
        case .kubernetes:
            let server = try await FakeAPIServer()
            let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
            return try ControllerHarness(store: KubernetesStore(client: client, cached: KubernetesStore.controllerKinds), fleet: fleet,
                                         server: server)
        }
    }

    deinit {
        task.cancel()
        server?.stop()
    }

    /// Waits until the queues stay idle; false after `seconds` (generous: the whole suite runs in parallel on 2 cores,
    /// and tests that block threads can starve the controller's tasks for a while).
    @discardableResult
    func settle(seconds: Double = 180) async -> Bool {
        var quiet = 0
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
            quiet = await controller.isIdle() ? quiet + 1 : 0
            if quiet >= 5 { return true }
        }
        return false
    }

    /// Adds a Node object and its daemon.
    func join(_ node: String, host: Int, nics: Int = 2) async throws {
        await fleet.add(node: node, host: host, nics: nics)
        _ = try await store.apply(ClusterNode(metadata: ObjectMeta(name: node), spec: NodeSpec()))
        await controller.daemonStarted(node)
    }

    static func config(_ path: String) throws -> Config {
        try ManifestLoader.load(path: path)[0].decode(Config.self)
    }

    static func network(_ yaml: String) throws -> MultiNicNetwork {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("net-\(UUID()).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ManifestLoader.load(path: path)[0].decode(MultiNicNetwork.self)
    }

    static let seed = """
        apiVersion: net.cogadvisor.io/v1
        kind: MultiNicNetwork
        metadata:
          name: multi-nic-sample
        spec:
          subnet: "192.168.0.0/16"
          ipam: '{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"vlanMode":"l3"}'
          multiNICIPAM: true
          plugin:
            cniVersion: "0.3.0"
            type: ipvlan
            args:
              mode: l3
          attachPolicy:
            strategy: none
        """
}
