import Foundation
import MultiNICController
@testable import MultiNICCLI
import MultiNICCore
import Testing

/// The reconcilers with in-process daemons, on the embedded store and (the lab's scenarios again) on the Kubernetes
/// store against the in-process API server.
@Suite struct ReconcilerTests {
    func startedCluster(_ kind: StoreKind = .embedded, nodes: Int = 3,
                        namespaces: [String] = ["default", "team-a"]) async throws -> ControllerHarness {
        let harness = try await ControllerHarness.start(kind)
        for namespace in namespaces {
            _ = try await harness.store.create(ClusterNamespace(metadata: ObjectMeta(name: namespace), spec: NamespaceSpec()))
        }
        for index in 0..<nodes { try await harness.join("node-\(index)", host: index) }
        _ = try await harness.store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())
        return harness
    }

    func indices(_ store: any ResourceStore) async throws -> [String: Int] {
        let cidr = try #require(try await store.get(CIDRSpec.self, name: "multi-nic-sample"))
        return Dictionary(cidr.spec.cidr.flatMap { entry in entry.hosts.map { ("\(entry.interfaceIndex)/\($0.hostName)", $0.hostIndex) } },
                          uniquingKeysWith: { first, _ in first })
    }

    @Test(arguments: StoreKind.allCases)
    func aNetworkConvergesToNADsCIDRPoolsRoutesAndStatus(on kind: StoreKind) async throws {
        let harness = try await startedCluster(kind)
        let store = harness.store
        let nads = try await store.list(NetworkAttachmentDefinitionSpec.self)
        #expect(Set(nads.compactMap(\.metadata.namespace)) == ["default", "team-a"], "all namespaces when none are listed")
        let cidr = try #require(try await store.get(CIDRSpec.self, name: "multi-nic-sample"))
        #expect(cidr.spec.cidr.map(\.hosts.count) == [3, 3])
        #expect(try await store.list(IPPoolSpec.self).count == 6)
        let pushed = await harness.fleet.pools
        #expect(pushed.keys.sorted() == ["node-0", "node-1", "node-2"] && pushed.values.allSatisfy { $0.count == 2 })
        let routes = await harness.fleet.routes
        for node in ["node-0", "node-1", "node-2"] {
            let request = try #require(routes[node]?["multi-nic-sample"])
            #expect(request.routes.count == 4, "2 other hosts × 2 NICs on \(node)")
            #expect(request.routes.allSatisfy { !$0.via.hasSuffix(".\(10 + Int(node.suffix(1))!)") }, "never via itself")
        }
        let status = try #require(try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status)
        #expect(status.configStatus == .success && status.routeStatus == .success)
        #expect(status.computeResults == [NetworkComputeResult(netAddress: "10.0.1.0/24", numOfHosts: 3),
                                          NetworkComputeResult(netAddress: "10.0.2.0/24", numOfHosts: 3)])
        #expect(status.discovery == DiscoveryStatus(existDaemon: 3, infoAvailable: 3, cidrProcessed: 3))
    }

    @Test(arguments: StoreKind.allCases)
    func hostsJoinAndLeaveWithoutMovingOthers(on kind: StoreKind) async throws {
        let harness = try await startedCluster(kind)
        let before = try await indices(harness.store)
        try await harness.join("node-3", host: 3)
        #expect(await harness.settle())
        let joined = try await indices(harness.store)
        #expect(joined.filter { before[$0.key] != nil } == before, "existing indices unchanged")
        #expect(joined["0/node-3"] != nil && joined.count == 8)
        #expect(await harness.fleet.routes["node-0"]?["multi-nic-sample"]?.routes.count == 6)

        try await harness.store.delete(NodeSpec.self, name: "node-1", namespace: nil)
        await harness.fleet.remove(node: "node-1")
        #expect(await harness.settle())
        let left = try await indices(harness.store)
        #expect(left["0/node-1"] == nil && left["0/node-0"] == before["0/node-0"] && left["0/node-2"] == before["0/node-2"])
        #expect(try await harness.store.list(IPPoolSpec.self).allSatisfy { $0.spec.hostName != "node-1" })
    }

    @Test(arguments: StoreKind.allCases)
    func aDaemonRestartingWithNoInterfacesChangesNothing(on kind: StoreKind) async throws {
        let harness = try await startedCluster(kind)
        let before = try await indices(harness.store)
        await harness.fleet.discoverNothing(on: "node-2", true)
        await harness.controller.daemonStarted("node-2")
        #expect(await harness.settle())
        try await Task.sleep(for: .milliseconds(400))
        #expect(await harness.settle())
        #expect(try await indices(harness.store) == before, "upstream #78: empty discovery never removes blocks")
        #expect(try await harness.store.get(HostInterfaceSpec.self, name: "node-2")?.spec.interfaces.count == 2)
    }

    @Test func aControllerRestartKeepsIndicesAndAllocations() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-store-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = FakeFleet()
        var before: [String: Int] = [:]
        do {
            let harness = try ControllerHarness(store: try EmbeddedStore(directory: directory), fleet: fleet)
            for index in 0..<3 { try await harness.join("node-\(index)", host: index) }
            _ = try await harness.store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
            _ = try await harness.store.create(try ControllerHarness.network(ControllerHarness.seed))
            #expect(await harness.settle())
            before = try await indices(harness.store)
            // A daemon mirrored an allocation into its pool.
            var pool = try #require(try await harness.store.list(IPPoolSpec.self).first)
            pool.spec.allocations = [Allocation(pod: "p", namespace: "default", index: 1, address: "192.168.0.1")]
            _ = try await harness.store.update(pool)
            harness.task.cancel()
        }
        let restarted = try ControllerHarness(store: try EmbeddedStore(directory: directory), fleet: fleet)
        try await restarted.join("node-3", host: 3)
        #expect(await restarted.settle())
        let after = try await indices(restarted.store)
        #expect(after.filter { before[$0.key] != nil } == before)
        #expect(try await restarted.store.list(IPPoolSpec.self).contains { $0.spec.allocations.count == 1 }, "allocations kept")
    }

    @Test(arguments: StoreKind.allCases)
    func aNewNamespaceGetsTheNAD(on kind: StoreKind) async throws {
        let harness = try await startedCluster(kind)
        _ = try await harness.store.create(ClusterNamespace(metadata: ObjectMeta(name: "team-b"), spec: NamespaceSpec()))
        #expect(await harness.settle())
        #expect(try await harness.store.get(NetworkAttachmentDefinitionSpec.self, name: "multi-nic-sample", namespace: "team-b") != nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aRouteFailureIsReportedInTheStatus(on kind: StoreKind) async throws {
        let harness = try await ControllerHarness.start(kind)
        await harness.fleet.failRoutes(on: "node-1", "eth2 is down")
        for index in 0..<3 { try await harness.join("node-\(index)", host: index) }
        _ = try await harness.store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())
        let status = try #require(try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status)
        #expect(status.routeStatus == .failed && status.message.contains("node-1: eth2 is down"), "\(status)")
        await harness.fleet.failRoutes(on: "node-1", nil)
        try await Task.sleep(for: .seconds(6))
        #expect(await harness.settle())
        #expect(try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status?.routeStatus == .success)
    }

    @Test(arguments: StoreKind.allCases)
    func deletingTheNetworkRemovesEverythingItCreated(on kind: StoreKind) async throws {
        let harness = try await startedCluster(kind)
        try await harness.store.delete(MultiNicNetworkSpec.self, name: "multi-nic-sample", namespace: nil)
        #expect(await harness.settle())
        #expect(try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample") == nil)
        #expect(try await harness.store.list(NetworkAttachmentDefinitionSpec.self).isEmpty)
        #expect(try await harness.store.list(IPPoolSpec.self).isEmpty)
        #expect(try await harness.store.list(CIDRSpec.self).isEmpty)
        let routes = await harness.fleet.routes
        #expect(routes.values.allSatisfy { $0["multi-nic-sample"] == nil }, "routes removed from every node")
        #expect(await harness.fleet.pools.values.allSatisfy(\.isEmpty), "every daemon's pools emptied")
    }
}

/// A backend's dependent resources (SR-IOV) are written next to the NAD, owned by the network.
@Suite struct DependentResourceTests {
    static let sriov = """
        apiVersion: net.cogadvisor.io/v1
        kind: MultiNicNetwork
        metadata:
          name: sriov-net
        spec:
          subnet: "10.30.0.0/16"
          ipam: '{"type": "multi-nic-ipam", "hostBlock": 8, "interfaceBlock": 2, "vlanMode": "l3"}'
          multiNICIPAM: true
          plugin:
            cniVersion: "0.4.0"
            type: sriov
            args: {numVfs: 4, vlan: 100}
          namespaces: [default]
        """

    @Test func sriovPolicyAndNetworkAreWrittenAndGoWithTheNetwork() async throws {
        let harness = try ControllerHarness()
        _ = try await harness.store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        for index in 0..<2 { try await harness.join("node-\(index)", host: index) }
        _ = try await harness.store.create(try ControllerHarness.network(Self.sriov))
        #expect(await harness.settle())
        let policies = try await harness.store.listObjects(apiVersion: "sriovnetwork.openshift.io/v1", kind: "SriovNetworkNodePolicy",
                                                           labels: [NetworkReconciler.networkLabel: "sriov-net"])
        let networks = try await harness.store.listObjects(apiVersion: "sriovnetwork.openshift.io/v1", kind: "SriovNetwork",
                                                           labels: [NetworkReconciler.networkLabel: "sriov-net"])
        #expect(policies.count == 1 && networks.count == 1)
        let owner = policies.first?.objectValue?["metadata"]?.objectValue?["ownerReferences"]?.arrayValue?.first?.objectValue
        #expect(owner?["name"] == .string("sriov-net") && owner?["kind"] == .string("MultiNicNetwork"))
        let embedded = try #require(harness.store as? EmbeddedStore)
        let writes = await embedded.writes
        await harness.controller.networks.add("sriov-net")
        #expect(await harness.settle())
        #expect(await embedded.writes == writes, "an unchanged dependent is not written again")

        try await harness.store.delete(MultiNicNetworkSpec.self, name: "sriov-net", namespace: nil)
        #expect(await harness.settle())
        let left = try await harness.store.listObjects(apiVersion: "sriovnetwork.openshift.io/v1", kind: "SriovNetworkNodePolicy",
                                                       labels: [:])
        #expect(left.isEmpty, "owned dependents go with the network")
    }
}

/// `multinicctl status` over a converged cluster.
@Suite struct StatusReportTests {
    @Test func theReportListsNetworksHostsPoolsAndRoutes() async throws {
        let harness = try ControllerHarness()
        for index in 0..<2 { try await harness.join("node-\(index)", host: index) }
        _ = try await harness.store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        _ = try await harness.store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())
        let report = try await StatusCommand.report(harness.store)
        let lines = report.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NETWORK") == true)
        let row = try #require(lines.first { $0.hasPrefix("multi-nic-sample") })
        let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        #expect(Array(cells.prefix(7)) == ["multi-nic-sample", "192.168.0.0/16", "ipvlan", "Success", "Success", "2", "4"], "\(row)")
        #expect(lines.contains { $0.hasPrefix("node-1") && $0.contains("eth2 10.0.2.0/24") }, "\(report)")
    }
}
