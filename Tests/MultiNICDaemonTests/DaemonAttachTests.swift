import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// `/attach` and `/detach`: one round trip per CNI ADD/DEL.
@Suite struct DaemonAttachTests {
    static let attach = #"{"pod":"p1","namespace":"default","podUID":"u1","containerID":"c1","ifName":"net1","network":"net","cniVersion":"1.0.0","plugin":{"cniVersion":"1.0.0","type":"macvlan","mode":"bridge"},"masterNets":["10.0.1.0/24","10.0.2.0/24"],"args":{"nics":2}}"#

    @Test func attachSelectsAllocatesAndBuildsDelegatesThenDetachUndoesIt() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            let attached = try await DaemonAPITests().call(client, .post, "/attach", Self.attach)
            #expect(attached.status == 200)
            let response = try JSONDecoder().decode(AttachResponse.self, from: Data(attached.body.utf8))
            #expect(response.nics.map(\.ifName) == ["net1-0", "net1-1"])
            #expect(response.nics.map(\.master) == ["eth1", "eth2"])
            #expect(response.nics.map(\.address) == ["192.168.0.1/18", "192.168.64.1/18"])
            let delegate = try #require(response.nics.first?.delegate?.objectValue)
            #expect(delegate["type"] == .string("macvlan"))
            #expect(delegate["master"] == .string("eth1"))
            #expect(delegate["mode"] == .string("bridge"))
            #expect(delegate["ipam"]?.description == #"{"addresses":[{"address":"192.168.0.1/18"}],"type":"static"}"#)

            let detach = #"{"containerID":"c1","network":"net","cniVersion":"1.0.0","plugin":{"cniVersion":"1.0.0","type":"macvlan","mode":"bridge"}}"#
            let detached = try JSONDecoder().decode(AttachResponse.self, from: Data(try await DaemonAPITests().call(client, .post, "/detach", detach).body.utf8))
            #expect(detached.nics.map(\.ifName) == ["net1-0", "net1-1"])
            #expect(detached.nics.allSatisfy { $0.delegate?.objectValue?["type"] == .string("macvlan") })
            #expect(services.ipam.current.leases.isEmpty)
            #expect(try await DaemonAPITests().call(client, .post, "/detach", detach).body == #"{"nics":[]}"#, "a second DEL finds nothing")
        }
    }

    @Test func anUnusableBackendAllocatesNothing() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            let unknown = try await DaemonAPITests().call(client, .post, "/attach", Self.attach.replacingOccurrences(of: "macvlan", with: "bridge"))
            #expect(unknown.status == 404 && unknown.body.contains("no backend \\\"bridge\\\""))
            // sriov without a device ID cannot build its delegate: the addresses are released again.
            let sriov = try await DaemonAPITests().call(client, .post, "/attach", Self.attach.replacingOccurrences(of: "\"macvlan\"", with: "\"sriov\""))
            #expect(sriov.status == 400 && sriov.body.contains("deviceID"))
            #expect(services.ipam.current.leases.isEmpty)
        }
    }
}

/// The `/attach` contract carries what the policy and the pod need: the pod's GPUs per NUMA node reach the topology
/// policy, and the network's static routes come back per NIC with a metric.
@Suite struct DaemonAttachContractTests {
    /// Services whose eth1 sits on NUMA node 0 and eth2 on NUMA node 1 (a fake sysfs under `directory`).
    static func services(directory: String) throws -> DaemonServices {
        for (address, name, numa) in [("0000:3b:00.0", "eth1", "0"), ("0000:af:00.0", "eth2", "1")] {
            let base = directory + "/sys/bus/pci/devices/" + address
            try FileManager.default.createDirectory(atPath: base + "/net/" + name, withIntermediateDirectories: true)
            for (file, text) in [("class", "0x020000"), ("vendor", "0x15b3"), ("device", "0x1019"), ("numa_node", numa)] {
                try (text + "\n").write(toFile: base + "/" + file, atomically: true, encoding: .utf8)
            }
        }
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth"),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!),
                          AddressInfo(linkIndex: 3, address: IPNetwork("10.0.2.11/24")!)])
        let configuration = DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory + "/state",
                                                sysfsRoot: directory + "/sys", rtTablesPath: directory + "/rt_tables",
                                                virtualKinds: ["veth"], quarantineSeconds: 0)
        return try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry())
    }

    static func withServices(_ body: (DaemonServices) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-contract-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let services = try services(directory: directory)
        let pools = try JSONDecoder().decode([IPPool].self, from: Data(DaemonAPITests.pools.utf8))
        try await services.setPools(pools)
        try await body(services)
    }

    static func request(container: String, gpus: [String: Int]?, routes: [IPAMRoute]? = nil, nics: Int = 1) -> AttachRequest {
        AttachRequest(pod: "p-" + container, namespace: "default", podUID: "u-" + container, containerID: container,
                      ifName: "net1", network: "net", cniVersion: "1.0.0",
                      plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")],
                      masterNets: ["10.0.1.0/24", "10.0.2.0/24"], attachPolicy: AttachPolicySpec(strategy: "topology"),
                      args: SelectArgs(nics: nics), routes: routes, gpusPerNUMA: gpus)
    }

    @Test func theGPUMapSentInAttachChangesTheTopologyOrder() async throws {
        try await Self.withServices { services in
            let without = try await services.attach(Self.request(container: "a", gpus: nil))
            #expect(without.nics.map(\.master) == ["eth1"], "no GPUs: the base order")
            let onNode1 = try await services.attach(Self.request(container: "b", gpus: ["1": 2]))
            #expect(onNode1.nics.map(\.master) == ["eth2"], "two GPUs on NUMA 1: the NIC on NUMA 1 first")
            let onNode0 = try await services.attach(Self.request(container: "c", gpus: ["0": 1, "1": 0]))
            #expect(onNode0.nics.map(\.master) == ["eth1"])
        }
    }

    @Test func staticRoutesComeBackPerNICWithAMetricAndNeverInTheDelegate() async throws {
        try await Self.withServices { services in
            let routes = [IPAMRoute(dst: "10.99.0.0/16"), IPAMRoute(dst: "10.98.0.0/16", gw: "192.168.64.254")]
            let attached = try await services.attach(Self.request(container: "r", gpus: nil, routes: routes, nics: 2))
            #expect(attached.nics.map(\.master) == ["eth1", "eth2"])
            let wide = try #require(PodRoute(IPAMRoute(dst: "10.99.0.0/16")))
            let viaGateway = try #require(PodRoute(routes[1]))
            #expect(attached.nics[0].routes == [NICRoute(route: wide, metric: 100)], "the gateway is not on eth1's block")
            #expect(attached.nics[1].routes == [NICRoute(route: wide, metric: 101), NICRoute(route: viaGateway, metric: 101)])
            #expect(attached.nics.allSatisfy { $0.delegate?.objectValue?["ipam"]?.objectValue?["routes"] == nil })
            // A gateway on none of the pod's interfaces fails the attach and allocates nothing.
            let before = services.ipam.current.leases.count
            await #expect(throws: DaemonError.self) {
                _ = try await services.attach(Self.request(container: "x", gpus: nil,
                                                           routes: [IPAMRoute(dst: "10.97.0.0/16", gw: "192.168.200.1")], nics: 2))
            }
            #expect(services.ipam.current.leases.count == before)
        }
    }
}
