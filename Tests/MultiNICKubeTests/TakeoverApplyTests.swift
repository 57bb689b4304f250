import Foundation
import MultiNICCore
import MultiNICDaemon
import MultiNICIPAM
import MultiNICNetlink
import MultiNICKube
import MultiNICKubeFake
import MultiNICTakeover
import MultiNICTestSupport
import Testing

/// `takeover apply` and `rollback` on the in-test API server holding a cluster of the original: what is written, a
/// crash after every step resumed to the same end state, the rollback, and the refusal when addresses are at stake.
@Suite struct TakeoverApplyTests {
    static let namespace = "multi-nic-cni-operator"

    static func cluster(_ fixture: String = "cluster") async throws -> (FakeAPIServer, KubeClient) {
        let server = try await FakeAPIServer()
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        try await TakeoverReaderTests.create(try TakeoverReaderTests.fixture(fixture), on: client)
        return (server, client)
    }

    /// What the run left in the cluster, without the server's own fields: MultiNIC's kinds, the original's
    /// workloads and the record.
    static func state(_ server: FakeAPIServer) -> [String] {
        let collections = ["apis/net.cogadvisor.io/v1/multinicnetworks", "apis/net.cogadvisor.io/v1/cidrs", "apis/net.cogadvisor.io/v1/ippools",
                           "apis/net.cogadvisor.io/v1/hostinterfaces", "apis/apps/v1/deployments", "apis/apps/v1/daemonsets", "api/v1/configmaps"]
        return collections.flatMap { collection in
            server.objects(collection).map { object -> String in
                guard var fields = object.objectValue, var metadata = fields["metadata"]?.objectValue else { return object.description }
                for key in ["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"] { metadata[key] = nil }
                fields["metadata"] = .object(metadata)
                return collection + " " + JSONValue.object(fields).description
            }
        }.sorted()
    }

    @Test func applyCopiesEverythingAndRetiresTheOriginal() async throws {
        let (server, client) = try await Self.cluster()
        defer { server.stop() }
        let record = try await TakeoverRunner(client: client, namespace: Self.namespace).apply()
        #expect(record.steps == TakeoverRecord.Step.allCases && record.networks == ["multinic-ipvlanl3"])
        #expect(record.controller?.replicas == 1, "the record keeps the replicas the controller had")

        let network = try await client.get(MultiNicNetworkSpec.self, name: "multinic-ipvlanl3", namespace: nil)
        #expect(network.apiVersion == MultiNICAPI.version && network.status?.routeStatus == .success)
        let original = try TakeoverReaderTests.fixture("cluster")
        let legacy = try LegacyCluster(objects: original)
        let cidr = try await client.get(CIDRSpec.self, name: "multinic-ipvlanl3", namespace: nil)
        #expect(cidr.spec == legacy.cidrs[0].spec, "the CIDR is copied as it is: every index kept")
        let pools = try await client.list(IPPoolSpec.self, namespace: nil).items
        #expect(pools.count == 4)
        let adopted = try pools.flatMap { try IPPoolSpec.adoptions(of: $0) ?? [] }.map(\.address).sorted()
        #expect(adopted == ["192.168.0.1", "192.168.0.2", "192.168.0.65", "192.168.64.1", "192.168.64.2", "192.168.64.65"])
        #expect(pools.allSatisfy { $0.metadata.labels?[IPPoolSpec.hostLabel] == $0.spec.hostName })
        #expect(try await client.list(HostInterfaceSpec.self, namespace: nil).items.count == 2)

        let deployment = try JSONValue.parse(String(decoding: try await client.call(
            "GET", "/apis/apps/v1/namespaces/multi-nic-cni-operator-system/deployments/multi-nic-cni-operator-controller-manager"), as: UTF8.self))
        #expect(deployment.objectValue?["spec"]?.objectValue?["replicas"] == .integer(0))
        let daemonSet = try JSONValue.parse(String(decoding: try await client.call(
            "GET", "/apis/apps/v1/namespaces/multi-nic-cni-operator-system/daemonsets/multi-nicd"), as: UTF8.self))
        let selector = daemonSet.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue?["nodeSelector"]
        #expect(selector?.objectValue?[TakeoverRecord.retiredSelector.0]?.stringValue == TakeoverRecord.retiredSelector.1)
        let own = try JSONValue.parse(String(decoding: try await client.call(
            "GET", "/apis/apps/v1/namespaces/multi-nic-cni-operator/daemonsets/multi-nicd"), as: UTF8.self))
        #expect(own.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue?["nodeSelector"] == nil,
                "MultiNIC's own DaemonSet multi-nicd is not the original's")
        // The original's objects are left as they were (a rollback needs them).
        #expect(server.objects("apis/multinic.fms.io/v1/ippools").count == 4)

        // Running it again changes nothing.
        let before = Self.state(server)
        _ = try await TakeoverRunner(client: client, namespace: Self.namespace).apply()
        #expect(Self.state(server) == before)
    }

    @Test(arguments: TakeoverRecord.Step.allCases)
    func aCrashAfterAnyStepResumesToTheSameEnd(after step: TakeoverRecord.Step) async throws {
        let (straight, straightClient) = try await Self.cluster()
        defer { straight.stop() }
        _ = try await TakeoverRunner(client: straightClient, namespace: Self.namespace).apply()

        let (server, client) = try await Self.cluster()
        defer { server.stop() }
        let stopped = try await TakeoverRunner(client: client, namespace: Self.namespace).apply(stopAfter: step)
        #expect(stopped.steps.last == step)
        // A new process: it knows nothing but what the record says.
        let resumed = try await TakeoverRunner(client: client, namespace: Self.namespace).apply()
        #expect(resumed.steps == TakeoverRecord.Step.allCases)
        #expect(Self.state(server) == Self.state(straight))
    }

    @Test func rollbackPutsTheOriginalBack() async throws {
        let (server, client) = try await Self.cluster()
        defer { server.stop() }
        let runner = TakeoverRunner(client: client, namespace: Self.namespace)
        // The workloads' specs as they were (server fields aside): the rollback puts exactly these back.
        func workloads() -> [String] {
            (server.objects("apis/apps/v1/deployments") + server.objects("apis/apps/v1/daemonsets")).map { object in
                let fields = object.objectValue ?? [:]
                return "\(fields["metadata"]?.objectValue?["namespace"] ?? .null)/\(fields["metadata"]?.objectValue?["name"] ?? .null) "
                    + (fields["spec"]?.description ?? "")
            }.sorted()
        }
        let before = workloads()
        #expect(before.count == 3, "the original's controller and daemon, and MultiNIC's daemon")
        _ = try await runner.apply()
        #expect(workloads() != before, "apply stopped and retired the original's")
        let record = try await runner.rollback()
        #expect(record.rolledBack)
        #expect(workloads() == before)
        await #expect(throws: TakeoverError.self) { _ = try await runner.apply() }
    }

    @Test func applyRefusesWhileAnAddressIsAtStake() async throws {
        let (server, client) = try await Self.cluster("conflicts")
        defer { server.stop() }
        let runner = TakeoverRunner(client: client, namespace: Self.namespace)
        do {
            _ = try await runner.apply(networks: ["multinic-ipvlanl3"])
            Issue.record("apply went ahead")
        } catch {
            #expect(error.description.contains("would lose or duplicate an address") && error.description.contains("192.168.0.65"))
        }
        #expect(try await runner.loadRecord() == nil, "nothing was started")
        #expect(server.objects("apis/net.cogadvisor.io/v1/ippools").isEmpty)
    }
}

/// The seam between `takeover apply` and a node: the IPPools it wrote, pushed to node-1's daemon, give that daemon
/// the original's live addresses before its first ADD; a new pod gets others; the old pod's DEL frees its own.
@Suite struct TakeoverAdoptionSeamTests {
    /// Node node-1 of the fixture after `takeover apply`: the IPPools the operator would push to it, and a daemon's
    /// configuration and fake netlink (its two NICs) over a fresh state directory (`cleanUp` removes it).
    struct NodeOne {
        let pools: [IPPool]
        let configuration: DaemonConfiguration
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: ""),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.244.0.168/16")!), AddressInfo(linkIndex: 3, address: IPNetwork("10.0.0.168/16")!)])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-takeover-\(UUID())").path

        init(_ client: KubeClient) async throws {
            _ = try await TakeoverRunner(client: client, namespace: TakeoverApplyTests.namespace).apply()
            pools = try await client.list(IPPoolSpec.self, namespace: nil, labelSelector: "\(IPPoolSpec.hostLabel)=node-1").items
            configuration = DaemonConfiguration(nodeName: "node-1", stateDirectory: directory + "/state", sysfsRoot: directory + "/sys",
                                                rtTablesPath: directory + "/rt_tables", quarantineSeconds: 30)
        }

        /// A daemon (re)started over the node's state.
        func daemon() throws -> DaemonServices {
            try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry())
        }

        func cleanUp() { try? FileManager.default.removeItem(atPath: directory) }
    }
    @Test func theCopiedPoolsSeedTheNodeBeforeItsFirstAdd() async throws {
        let (server, client) = try await TakeoverApplyTests.cluster()
        defer { server.stop() }
        let node = try await NodeOne(client)
        defer { node.cleanUp() }
        let pools = node.pools
        let services = try node.daemon()
        let refused = try await services.setPools(pools)
        #expect(refused.isEmpty)
        let held = Set(services.ipam.current.leases.values.map(\.address.description))
        #expect(held == ["192.168.0.1", "192.168.0.2", "192.168.64.1", "192.168.64.2"])

        // A new pod on both NICs: never an address a live pod of the original holds.
        for index in 0..<5 {
            let leases = try await services.allocate(AddressRequest(
                network: "multinic-ipvlanl3", pod: PodRef(namespace: "default", name: "new-\(index)", uid: "u\(index)"), containerID: "c\(index)",
                slots: [.init(master: "eth1", ifName: "net1-0"), .init(master: "eth2", ifName: "net1-1")]))
            #expect(leases.count == 2 && leases.allSatisfy { !held.contains($0.address.description) }, "\(leases.map(\.address))")
        }

        // The old pod's DEL (its container never passed through MultiNIC) frees its addresses on both NICs.
        let detached = try await services.detach(DetachmentRequest(network: "multinic-ipvlanl3", containerID: "0a1b2c3d", attachment: "net1",
                                                                   cniVersion: "0.3.0", plugin: ["type": .string("ipvlan")],
                                                                   pod: PodRef(namespace: "default", name: "trainer-0")))
        #expect(detached.compactMap { $0.address?.address.description }.sorted() == ["192.168.0.1", "192.168.64.1"])
        #expect(detached.allSatisfy { $0.delegate == nil }, "the original's pod interfaces are removed by name, not by a rebuilt delegate")

        // The leak sweep: web-0's leases are keyed by pod (no UID); named gone, they go — and only pod-keyed ones do.
        let snapshot = services.podLeases()
        #expect(snapshot.pods.first { $0.name == "web-0" }?.podKeyed == true)
        #expect(snapshot.pods.first { $0.name == "new-0" }?.podKeyed == nil)
        let swept = try await services.releasePods([], podNames: ["team-a/web-0", "default/new-0", "web-0"], snapshotTakenAt: snapshot.takenAt)
        #expect(swept.map(\.address.description).sorted() == ["192.168.0.2", "192.168.64.2"], "\(swept)")
        #expect(services.ipam.current.leases.values.contains { $0.pod.name == "new-0" }, "a container-keyed lease is not released by name")

        // The operator pushes the same pools again (and the daemon restarts): nothing released comes back.
        let restarted = try node.daemon()
        _ = try await restarted.setPools(pools)
        #expect(!restarted.ipam.current.leases.values.contains { $0.address.description == "192.168.0.1" })
        #expect(!restarted.ipam.current.leases.values.contains { $0.pod.name == "web-0" }, "a swept adoption stays released")
    }

    @Test func aCheckHandsAPodKeyedLeaseToItsContainer() async throws {
        let (server, client) = try await TakeoverApplyTests.cluster()
        defer { server.stop() }
        let node = try await NodeOne(client)
        defer { node.cleanUp() }
        do {
            let services = try node.daemon()
            #expect(try await services.setPools(node.pools).isEmpty)
            // A CHECK of web-0's container (its result: 192.168.0.2 on net1-0, 192.168.64.2 on net1-1) hands the
            // leases it holds by name to the container, each to the interface the result names.
            let web = PodRef(namespace: "team-a", name: "web-0")
            // Never to a container ID that looks like a pod key, nor to a name no interface can have.
            #expect(try await services.leases(network: "multinic-ipvlanl3", containerID: "team-a/web-0", attachment: "net1",
                                              namespace: web.namespace, pod: web.name, claims: ["net1-0": "192.168.0.2"]).isEmpty)
            #expect(try await services.leases(network: "multinic-ipvlanl3", containerID: "c-web", attachment: "net1", namespace: web.namespace,
                                              pod: web.name, claims: ["net1-0-with-a-long-name": "192.168.0.2"]).isEmpty)
            let partial = try await services.leases(network: "multinic-ipvlanl3", containerID: "c-web", attachment: "net1", namespace: web.namespace,
                                                    pod: web.name, claims: ["net1-0": "192.168.0.2", "net1-1": "192.168.64.9"])
            #expect(partial.map(\.address.description) == ["192.168.0.2"], "only an address the result names is handed over")
            let handed = try await services.leases(network: "multinic-ipvlanl3", containerID: "c-web", attachment: "net1", namespace: web.namespace,
                                                   pod: web.name, claims: ["net1-0": "192.168.0.2", "net1-1": "192.168.64.2"])
            #expect(handed.map(\.key.ifName).sorted() == ["net1-0", "net1-1"] && handed.allSatisfy { $0.pod.name == "web-0" })
            #expect(services.podLeases().pods.first { $0.name == "web-0" }?.podKeyed == nil, "no longer keyed by pod")
        }
        // After a restart (the journal replayed), CNI GC judges them like any lease: kept while the container is valid.
        let replayed = try node.daemon()
        #expect(replayed.ipam.current.leases.keys.filter { $0.containerID == "c-web" }.count == 2, "the handover is journaled")
        let valid: Set<AllocationKey> = [AllocationKey(network: "multinic-ipvlanl3", containerID: "c-web", ifName: "net1-0"),
                                         AllocationKey(network: "multinic-ipvlanl3", containerID: "c-web", ifName: "net1-1")]
        let collected = try await replayed.garbageCollect(network: "multinic-ipvlanl3", valid: valid)
        #expect(!collected.contains { $0.key.containerID == "c-web" })
        #expect(try await replayed.leases(network: "multinic-ipvlanl3", containerID: "c-web", attachment: "net1").count == 2)
        let gone = try await replayed.garbageCollect(network: "multinic-ipvlanl3", valid: [])
        #expect(gone.filter { $0.key.containerID == "c-web" }.count == 2, "a container no longer valid loses them")
    }
}
