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
            #expect(response.nics.map { $0.address?.description } == ["192.168.0.1/18", "192.168.64.1/18"])
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

    /// The contract services behind the daemon's router: requests go through the wire types and their checks.
    static func withDaemon(_ body: @escaping @Sendable (Daemon) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-contract-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let services = try services(directory: directory)
        let pools = try JSONDecoder().decode([IPPool].self, from: Data(DaemonAPITests.pools.utf8))
        try await services.setPools(pools)
        let app = Application(router: DaemonRouter.build(services, access: .localSocket))
        try await app.test(.router) { client in try await body(Daemon(client: client, services: services)) }
    }

    /// One in-process daemon: its HTTP client and its services (to look at the leases).
    struct Daemon: Sendable {
        let client: any TestClientProtocol
        let services: DaemonServices

        /// `POST /attach` with `request` as JSON: the answer's NICs, or the status and error text.
        func attach(_ request: AttachRequest) async throws -> Result<[AttachedNIC], AttachFailure> {
            let body = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
            let (status, answer) = try await DaemonAPITests().call(client, .post, DaemonAPI.attachPath, body)
            guard status == 200 else { return .failure(AttachFailure(status: status, body: answer)) }
            return .success(try JSONDecoder().decode(AttachResponse.self, from: Data(answer.utf8)).nics)
        }
    }

    struct AttachFailure: Error, Equatable {
        let status: Int
        let body: String
    }

    static func request(container: String, gpus: [String: Int]?, routes: [PodRoute]? = nil, nics: Int = 1) -> AttachRequest {
        AttachRequest(pod: "p-" + container, namespace: "default", podUID: "u-" + container, containerID: container,
                      ifName: "net1", network: "net", cniVersion: "1.0.0",
                      plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")],
                      masterNets: ["10.0.1.0/24", "10.0.2.0/24"], attachPolicy: AttachPolicySpec(strategy: "topology"),
                      args: SelectArgs(nics: nics), routes: routes, gpusPerNUMA: gpus)
    }

    @Test func theGPUMapSentInAttachChangesTheTopologyOrder() async throws {
        try await Self.withDaemon { daemon in
            let without = try await daemon.attach(Self.request(container: "a", gpus: nil)).get()
            #expect(without.map(\.master) == ["eth1"], "no GPUs: the base order")
            let onNode1 = try await daemon.attach(Self.request(container: "b", gpus: ["1": 2])).get()
            #expect(onNode1.map(\.master) == ["eth2"], "two GPUs on NUMA 1: the NIC on NUMA 1 first")
            let onNode0 = try await daemon.attach(Self.request(container: "c", gpus: ["0": 1, "1": 0])).get()
            #expect(onNode0.map(\.master) == ["eth1"])
        }
    }

    @Test func aGPUMapOrVersionTheDaemonCannotUseIsRefusedNamingTheField() async throws {
        try await Self.withDaemon { daemon in
            for (gpus, field) in [(["node1": 2], "gpusPerNUMA.node1"), (["-1": 1], "gpusPerNUMA.-1"),
                                  (["99999": 1], "gpusPerNUMA.99999"), (["0": -3], "gpusPerNUMA.0")] {
                let answer = try await daemon.attach(Self.request(container: "g", gpus: gpus))
                guard case .failure(let failure) = answer else { Issue.record("\(gpus) was accepted"); continue }
                #expect(failure.status == 400 && failure.body.contains(field), "\(failure.body)")
            }
            var old = Self.request(container: "v", gpus: nil)
            old.cniVersion = "0.2.0"
            guard case .failure(let failure) = try await daemon.attach(old) else { Issue.record("0.2.0 was accepted"); return }
            #expect(failure.status == 400 && failure.body.contains("cniVersion"))
            #expect(daemon.services.ipam.current.leases.isEmpty, "nothing allocated on the way")
        }
    }

    @Test func staticRoutesComeBackPerNICWithAMetricAndNeverInTheDelegate() async throws {
        try await Self.withDaemon { daemon in
            let wide = try #require(PodRoute(dst: "10.99.0.0/16", gw: nil))
            let viaGateway = try #require(PodRoute(dst: "10.98.0.0/16", gw: "192.168.64.254"))
            let attached = try await daemon.attach(Self.request(container: "r", gpus: nil, routes: [wide, viaGateway], nics: 2)).get()
            #expect(attached.map(\.master) == ["eth1", "eth2"])
            #expect(attached[0].routes == [NICRoute(route: wide, metric: 100)], "the gateway is not on eth1's block")
            #expect(attached[1].routes == [NICRoute(route: wide, metric: 101), NICRoute(route: viaGateway, metric: 101)])
            #expect(attached.allSatisfy { $0.delegate?.objectValue?["ipam"]?.objectValue?["routes"] == nil })
            // A gateway on none of the pod's interfaces fails the attach and allocates nothing.
            let before = daemon.services.ipam.current.leases.count
            let far = try #require(PodRoute(dst: "10.97.0.0/16", gw: "192.168.200.1"))
            let refused = try await daemon.attach(Self.request(container: "x", gpus: nil, routes: [far], nics: 2))
            guard case .failure(let failure) = refused else { Issue.record("an unreachable gateway was accepted"); return }
            #expect(failure.status == 400 && failure.body.contains("10.97.0.0/16 via 192.168.200.1"))
            #expect(daemon.services.ipam.current.leases.count == before)
            // A route that is not a CIDR never reaches the services: the body is refused naming the field.
            let body = #"{"pod":"p","namespace":"default","containerID":"y","ifName":"net1","network":"net","cniVersion":"1.0.0","plugin":{"type":"macvlan"},"routes":[{"dst":"10.99.0.0"}]}"#
            let (status, text) = try await DaemonAPITests().call(daemon.client, .post, DaemonAPI.attachPath, body)
            #expect(status == 400 && text.contains("routes[0].dst"), "\(text)")
        }
    }
}
