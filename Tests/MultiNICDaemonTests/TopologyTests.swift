import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICDiscovery
import MultiNICKubelet
import MultiNICLab
import MultiNICNetlink
import MultiNICTestSupport
import SwiftProtobuf
import Testing

/// The kubelet's PodResources API as MultiNIC speaks it: the generated messages against protoc's own encoding, the
/// client against a gRPC server on a real unix socket (Get, the List fallback, a failing kubelet, no socket).
@Suite struct PodResourcesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/PodResources")

    static func temporaryDirectory() throws -> String {
        // Unix socket paths must stay under 108 bytes: /tmp, not a long temporary directory.
        let directory = "/tmp/mn-kubelet-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// list-response.bin is what protoc encoded from list-response.txtpb: the generated code reads every field of it
    /// and writes the same bytes back.
    @Test func theGeneratedMessagesMatchProtocsEncoding() throws {
        let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("list-response.bin"))
        let response = try V1_ListPodResourcesResponse(serializedBytes: bytes)
        #expect(response.podResources.map(\.name) == ["trainer-0", "web"])
        let main = try #require(response.podResources.first?.containers.first)
        #expect(main.name == "main" && main.cpuIds == [4, 5])
        #expect(main.devices.first?.resourceName == "nvidia.com/gpu")
        #expect(main.devices.first?.deviceIds == ["GPU-00000003-0000-4000-8000-000000000003", "0000:18:00.0"])
        #expect(main.devices.first?.topology.nodes.map(\.id) == [0, 1])
        #expect(main.memory.first?.size == 1 << 30)
        let claim = try #require(main.dynamicResources.first)
        #expect(claim.claimName == "nic-claim" && claim.claimResources.first?.driverName == "multinic.cogadvisor.io")
        #expect(claim.claimResources.first?.cdiDevices.first?.name == "multinic.cogadvisor.io/nic=eth1")
        #expect(try response.serializedBytes() as [UInt8] == Array(bytes))
        // And the domain answer the daemon reads from it.
        let answer = PodResourcesClient.answer(response.podResources[0])
        #expect(answer.devices == [ContainerDeviceSet(container: "main", resourceName: "nvidia.com/gpu",
                                                      deviceIDs: ["GPU-00000003-0000-4000-8000-000000000003", "0000:18:00.0"],
                                                      numaNodes: [0, 1])])
        #expect(answer.claimed.map(\.device) == ["eth1"])
    }

    @Test func theClientAsksGetAndFallsBackToListOnAnOlderKubelet() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pod = PodResourcesServer.Pod(namespace: "ml", name: "trainer-0", containers: [
            .init(name: "main", devices: [.init(resourceName: "nvidia.com/gpu", deviceIDs: ["0000:18:00.0"], numaNodes: [0])])])
        let server = PodResourcesServer(socketPath: directory + "/kubelet.sock", pods: [pod])
        try await server.start()
        defer { server.stop() }
        // A generous deadline: the suite runs beside many others on 2 cores.
        let client = try PodResourcesClient(socketPath: server.socketPath, timeout: .seconds(20))
        let answer = try await client.devices(namespace: "ml", name: "trainer-0")
        #expect(answer.devices.map(\.deviceIDs) == [["0000:18:00.0"]] && !answer.usedList)
        #expect(server.calls == ["Get"])

        server.set(behaviour: .listOnly)
        let listed = try await client.devices(namespace: "ml", name: "trainer-0")
        #expect(listed.usedList && listed.devices.map(\.deviceIDs) == [["0000:18:00.0"]])
        #expect(server.calls == ["Get", "Get", "List"])
        #expect(try await client.devices(namespace: "ml", name: "other").devices.isEmpty, "List without the pod: no devices")

        server.set(behaviour: .failing)
        await #expect(throws: KubeletError.self) { _ = try await client.devices(namespace: "ml", name: "trainer-0") }
    }

    /// The kubelet serves PodResources with grpc-go, which sends a PING with every call (BDP probing); swift-nio-http2
    /// closes a connection that receives more than 200 PINGs in 30 s, failing the call in flight. 260 lookups in a
    /// row all get their answer: the call is made again on the next connection.
    @Test func aKubeletThatPingsWithEveryCallLosesNoLookup() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = PodResourcesServer(socketPath: directory + "/kubelet.sock", pods: [PodResourcesServer.Pod(
            namespace: "ml", name: "trainer-0",
            containers: [.init(name: "main", devices: [.init(resourceName: "nvidia.com/gpu", deviceIDs: ["0000:18:00.0"])])])])
        try await server.start()
        defer { server.stop() }
        let proxy = try PingingKubeletProxy(socketPath: directory + "/go-kubelet.sock", upstreamPath: server.socketPath)
        defer { proxy.stop() }
        let client = try PodResourcesClient(socketPath: proxy.socketPath, timeout: .seconds(20))
        for call in 0..<260 {
            let answer = try await client.devices(namespace: "ml", name: "trainer-0")
            #expect(answer.devices.map(\.deviceIDs) == [["0000:18:00.0"]], "call \(call)")
        }
        #expect(proxy.pings.load(ordering: .relaxed) >= 260)
        #expect(proxy.connections.load(ordering: .relaxed) >= 2, "the client dropped a connection for its PINGs (else this tests nothing)")
    }

    /// A transient socket: the lookup says which source it used; without a socket it reads the checkpoint; without
    /// either it says the topology is unknown.
    @Test func theLookupFallsBackToTheCheckpointAndSaysWhichSourceItUsed() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = PodDeviceLookup.Configuration()
        configuration.socketPath = directory + "/kubelet.sock"
        configuration.checkpointPath = directory + "/kubelet_internal_checkpoint"
        configuration.sysfsRoot = directory + "/sys"
        configuration.nvidiaRoot = directory + "/nvidia"
        configuration.timeout = .seconds(20)
        try LabHardware.lab(nics: 2, gpus: 2).write(sysfsRoot: configuration.sysfsRoot, nvidiaRoot: configuration.nvidiaRoot)
        let lookup = PodDeviceLookup(configuration: configuration)
        let none = await lookup.gpus(namespace: "ml", name: "p", uid: "u-1")
        #expect(none.source == .none && none.problems.first?.contains("topology unknown") == true)

        let gpu1 = LabHardware.lab(nics: 2, gpus: 2).gpus[1]
        try #"{"Data":{"PodDeviceEntries":[{"PodUID":"u-1","ContainerName":"main","ResourceName":"nvidia.com/gpu","DeviceIDs":{"1":["\#(gpu1.uuid)"]}}]}}"#
            .write(toFile: configuration.checkpointPath, atomically: true, encoding: .utf8)
        #expect(lookup.source.hasPrefix("checkpoint"))
        let fromCheckpoint = await lookup.gpus(namespace: "ml", name: "p", uid: "u-1")
        #expect(fromCheckpoint.source == .checkpoint && fromCheckpoint.locations.map(\.pciAddress) == [gpu1.address],
                "the UUID is found through the NVIDIA driver's information file: \(fromCheckpoint)")

        let server = PodResourcesServer(socketPath: configuration.socketPath, pods: [PodResourcesServer.Pod(
            namespace: "ml", name: "p", containers: [.init(name: "main", devices: [
                .init(resourceName: "nvidia.com/gpu", deviceIDs: [LabHardware.lab(nics: 2, gpus: 2).gpus[0].address]),
                .init(resourceName: "example.com/fpga", deviceIDs: ["0000:99:00.0"])])])])
        try await server.start()
        defer { server.stop() }
        #expect(lookup.source.hasPrefix("podresources"))
        let fromKubelet = await lookup.gpus(namespace: "ml", name: "p", uid: "u-1")
        #expect(fromKubelet.source == .podResources && fromKubelet.gpus.map(\.resourceName) == ["nvidia.com/gpu"], "only GPU resources")
        #expect(fromKubelet.locations.first?.pcieRoot == "pci0000:10" && fromKubelet.problems.isEmpty, "\(fromKubelet)")
    }
}

/// NICs ranked by closeness to the pod's GPUs on two real server layouts, through the real path: a sysfs tree,
/// discovery, the kubelet (a gRPC server on a unix socket) naming the pod's GPUs, the topology plugin, `/attach`.
@Suite struct TopologyAttachTests {
    /// A daemon on `hardware` (NICs `eth1…` with 10.0.k.11/24, one pool each) asking `kubelet` about pods.
    static func withDaemon(_ hardware: LabHardware, kubelet pods: [PodResourcesServer.Pod], behaviour: PodResourcesServer.Behaviour = .current,
                           _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let directory = try PodResourcesTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try hardware.write(sysfsRoot: directory + "/sys", nvidiaRoot: directory + "/nvidia")
        let nics = hardware.devices.compactMap { device -> String? in
            if case .nic(let name) = device.kind { return name }
            return nil
        }.sorted()
        let netlink = FakeNetlink(
            linkList: nics.enumerated().map { LinkInfo(index: Int32($0.offset + 2), name: $0.element, isUp: true, hasCarrier: true, mtu: 1500, kind: "") },
            addressList: nics.enumerated().map { AddressInfo(linkIndex: Int32($0.offset + 2), address: IPNetwork("10.0.\($0.offset + 1).11/24")!) })
        var configuration = DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory + "/state", sysfsRoot: directory + "/sys",
                                                rtTablesPath: directory + "/rt_tables", quarantineSeconds: 0,
                                                kubeletCheckpointPath: directory + "/checkpoint")
        configuration.podResourcesSocket = directory + "/kubelet.sock"
        configuration.nvidiaRoot = directory + "/nvidia"
        configuration.podResourcesTimeout = behaviour == .failing ? .seconds(2) : .seconds(20)
        let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry())
        try await services.setPools(nics.enumerated().map { index, name in
            IPPool(metadata: ObjectMeta(name: "net-192.168.\(index * 8).0-24"), spec: IPPoolSpec(
                podCIDR: "192.168.\(index * 8).0/24", vlanCIDR: "192.168.\(index * 8).0/21", netAttachDef: "net", hostName: "worker-1",
                interfaceName: name))
        })
        let server = PodResourcesServer(socketPath: configuration.podResourcesSocket, pods: pods, behaviour: behaviour)
        try await server.start()
        defer { server.stop() }
        let app = Application(router: DaemonRouter.build(services, access: .localSocket))
        try await app.test(.router) { client in try await body(client) }
    }

    static func pod(_ name: String, gpus: [String]) -> PodResourcesServer.Pod {
        PodResourcesServer.Pod(namespace: "default", name: name, containers: [
            .init(name: "main", devices: [.init(resourceName: "nvidia.com/gpu", deviceIDs: gpus)])])
    }

    static func attach(_ client: any TestClientProtocol, pod: String, nics: Int) async throws -> (status: Int, response: AttachResponse?, body: String) {
        let request = AttachRequest(pod: pod, namespace: "default", podUID: "u-" + pod, containerID: "c-" + pod, ifName: "net1",
                                    network: "net", cniVersion: "1.0.0",
                                    plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")],
                                    attachPolicy: AttachPolicySpec(strategy: "topology"), args: SelectArgs(nics: nics))
        let (status, body) = try await DaemonAPITests().call(client, .post, DaemonAPI.attachPath,
                                                             String(decoding: try JSONEncoder().encode(request), as: UTF8.self))
        return (status, try? JSONDecoder().decode(AttachResponse.self, from: Data(body.utf8)), body)
    }

    /// 2 sockets, 8 GPUs, 8 NICs, each GPU behind one PCIe switch with one NIC: a pod with GPUs 2 and 5 (by UUID)
    /// gets eth3 and eth6 — one per GPU, each behind its GPU's switch — and then nothing near.
    @Test func eachGPUGetsTheNICBehindItsSwitch() async throws {
        let hardware = LabHardware.eightGPUServer()
        let gpus = hardware.gpus
        try await Self.withDaemon(hardware, kubelet: [Self.pod("trainer", gpus: [gpus[2].uuid, gpus[5].uuid])]) { client in
            let (status, response, body) = try await Self.attach(client, pod: "trainer", nics: 2)
            try #require(status == 200, "\(body)")
            let nics = try #require(response?.nics)
            #expect(nics.map(\.master) == ["eth3", "eth6"], "\(body)")
            #expect(response?.devices?.source == .podResources)
            #expect(response?.devices?.gpus.compactMap(\.location?.pciAddress) == [gpus[2].address, gpus[5].address])
            let all = try await Self.attach(client, pod: "trainer", nics: 4)
            #expect(all.response?.nics.map(\.master).prefix(2) == ["eth3", "eth6"], "\(all.body)")
        }
    }

    /// 4 NICs on socket 0 only: a GPU under the same host bridge as eth3/eth4 (no shared switch) ranks those first;
    /// a GPU on socket 1 has no NIC near it and keeps the base order, said in the reason.
    @Test func withoutASharedSwitchTheRootThenTheNUMANodeDecide() async throws {
        let hardware = LabHardware.fourNICsOnOneSocket()
        let gpus = hardware.gpus
        try await Self.withDaemon(hardware, kubelet: [Self.pod("near", gpus: [gpus[0].address]), Self.pod("numa", gpus: [gpus[1].address]),
                                                      Self.pod("far", gpus: [gpus[2].address])]) { client in
            let near = try await Self.attach(client, pod: "near", nics: 4)
            #expect(near.response?.nics.map(\.master) == ["eth3", "eth4", "eth1", "eth2"], "\(near.body)")
            let selection = try await DaemonAPITests().call(client, .post, DaemonAPI.selectPath, """
                {"pod":"near","namespace":"default","podUID":"u-near","host":"worker-1","def":"net","attachPolicy":{"strategy":"topology"},"args":{"nics":4}}
                """)
            let reasons = try JSONDecoder().decode(SelectResponse.self, from: Data(selection.body.utf8)).reasons ?? []
            #expect(reasons.first?.contains("shares PCIe root pci0000:30 with GPU \(gpus[0].address)") == true, "\(reasons)")
            #expect(reasons.last?.contains("on NUMA node 0 with GPU") == true, "\(reasons)")
            let numa = try await Self.attach(client, pod: "numa", nics: 1)
            #expect(numa.response?.nics.map(\.master) == ["eth1"], "same NUMA node, base order: \(numa.body)")
            let far = try await Self.attach(client, pod: "far", nics: 4)
            #expect(far.response?.nics.map(\.master) == ["eth1", "eth2", "eth3", "eth4"], "\(far.body)")
        }
    }

    /// A kubelet that fails: the pod is still attached (base order), and the answer says the topology is unknown.
    @Test func aFailingKubeletDoesNotFailTheAttach() async throws {
        try await Self.withDaemon(LabHardware.eightGPUServer(), kubelet: [], behaviour: .failing) { client in
            let (status, response, body) = try await Self.attach(client, pod: "any", nics: 1)
            #expect(status == 200 && response?.nics.map(\.master) == ["eth1"], "\(body)")
            #expect(response?.devices?.problems.first?.contains("topology unknown") == true, "\(body)")
        }
    }
}
