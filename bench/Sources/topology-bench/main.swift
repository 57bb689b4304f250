// What asking the kubelet costs an attach: the daemon's /attach path in process (select, allocate, delegate configs,
// then release) on the 8-GPU/8-NIC server layout with the topology policy, once with the GPUs given by hand (no
// lookup), then with the pod's GPUs looked up through PodResources (gRPC on a unix socket, another process) and the
// sysfs tree, against two kubelets:
//  - the lab's stand-in (`multinicctl lab kubelet`, grpc-swift), and
//  - with --grpcio-python, a server on gRPC's C core (bench/tools/podresources-grpcio-server.py), and
//  - with --grpc-go-server, a server on grpc-go (bench/tools/podresources-go-server), the library the kubelet itself
//    serves PodResources with: the kubelet's side of a call costs what it costs there.
// The stand-in's own per-call CPU is about the client's, and the Python server's thread hand-off about as much again.
// Prints every p50 and the difference each lookup makes.
// Usage: topology-bench <plugins dir> <multinicctl> [attaches] [--grpcio-python <python with grpcio>]
//                       [--grpc-go-server <podresources-go-server>]
import Foundation
import MultiNICCore
import MultiNICDaemon
import MultiNICIPAM
import MultiNICKubelet
import MultiNICLab
import MultiNICNetlink
import MultiNICPluginHost
import MultiNICTestSupport
import SwiftProtobuf

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: topology-bench <plugins dir> <multinicctl> [attaches]")
    exit(2)
}
let count = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let python = option("--grpcio-python")
let goServer = option("--grpc-go-server")
let work = "/tmp/mn-topology-bench-\(UInt32.random(in: 0...UInt32.max))"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

let hardware = LabHardware.eightGPUServer()
try hardware.write(sysfsRoot: work + "/sys", nvidiaRoot: work + "/nvidia")
let nics = (1...8).map { "eth\($0)" }
let netlink = FakeNetlink(
    linkList: nics.enumerated().map { LinkInfo(index: Int32($0.offset + 2), name: $0.element, isUp: true, hasCarrier: true, mtu: 1500, kind: "") },
    addressList: nics.enumerated().map { AddressInfo(linkIndex: Int32($0.offset + 2), address: IPNetwork("10.0.\($0.offset + 1).11/24")!) })
let loaded = PluginRegistry.load(directory: arguments[1])
func makeServices(socket: String, state: String) async throws -> DaemonServices {
    var configuration = DaemonConfiguration(nodeName: "bench", stateDirectory: work + "/" + state, sysfsRoot: work + "/sys",
                                            rtTablesPath: work + "/rt_tables", quarantineSeconds: 0, kubeletCheckpointPath: work + "/checkpoint")
    configuration.podResourcesSocket = socket
    configuration.nvidiaRoot = work + "/nvidia"
    let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: loaded.registry)
    try await services.setPools(nics.enumerated().map { index, name in
        IPPool(metadata: ObjectMeta(name: "net-10.\(100 + index).0.0-16"), spec: IPPoolSpec(
            podCIDR: "10.\(100 + index).0.0/16", vlanCIDR: "10.\(100 + index).0.0/16", netAttachDef: "net", hostName: "bench", interfaceName: name))
    })
    return services
}
let standInSocket = work + "/kubelet.sock"
let fastSocket = work + "/kubelet-grpcio.sock"
let goSocket = work + "/kubelet-go.sock"
let gpus = hardware.gpus
// The kubelets are other processes, as on a node: `multinicctl lab kubelet` (the lab's stand-in) serving the pod.
let pod = PodResourcesServer.Pod(namespace: "default", name: "trainer", containers: [.init(name: "main", devices: [
    .init(resourceName: "nvidia.com/gpu", deviceIDs: [gpus[2].uuid, gpus[5].uuid])])])
let podsFile = work + "/pods.json"
try JSONEncoder().encode([pod]).write(to: URL(fileURLWithPath: podsFile))
var children: [Process] = []
defer { children.forEach { $0.terminate() } }
/// Starts a kubelet process. Through setpriv(1) (util-linux) with a parent-death signal: if this bench dies (a trap,
/// SIGKILL), the kernel ends its kubelets too instead of leaving them serving in the background. The children are
/// spawned from the main thread, which lives as long as the process.
@MainActor func start(_ executable: String, _ arguments: [String], socket: String) throws {
    let child = Process()
    let setpriv = "/usr/bin/setpriv"
    let guarded = FileManager.default.isExecutableFile(atPath: setpriv)
    child.executableURL = URL(fileURLWithPath: guarded ? setpriv : executable)
    child.arguments = guarded ? ["--pdeathsig", "TERM", "--", executable] + arguments : arguments
    child.standardError = FileHandle.nullDevice
    try child.run()
    children.append(child)
    for _ in 0..<500 where !FileManager.default.fileExists(atPath: socket) { usleep(10_000) }
}
try start(arguments[2], ["lab", "kubelet", "--socket", standInSocket, "--pods-file", podsFile], socket: standInSocket)
// The same answer, serialized once here; the C-core and grpc-go servers return these bytes to every Get.
var answer = V1_GetPodResourcesResponse()
answer.podResources = PodResourcesServer.message(pod)
let responseFile = work + "/get-response.bin"
try Data(answer.serializedBytes() as [UInt8]).write(to: URL(fileURLWithPath: responseFile))
if let python {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tools/podresources-grpcio-server.py").path
    try start(python, [script, fastSocket, responseFile], socket: fastSocket)
}
if let goServer {
    try start(goServer, [goSocket, responseFile], socket: goSocket)
}

func request(_ index: Int, byHand: Bool) -> AttachmentRequest {
    let query = NICQuery(network: "net", pod: PodRef(namespace: "default", name: "trainer", uid: "u"),
                         request: PodRequest(nics: 2), policy: AttachPolicySpec(strategy: "topology"),
                         gpusPerNUMA: byHand ? [0: 1, 1: 1] : [:])
    return AttachmentRequest(query: query, containerID: "c\(index)", ifName: "net1", cniVersion: "1.0.0",
                             plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")])
}

func measure(_ services: DaemonServices, byHand: Bool) async throws -> [Double] {
    var samples: [Double] = []
    let clock = ContinuousClock()
    for index in 0..<count {
        let started = clock.now
        let attached = try await services.attachWithDevices(request(index, byHand: byHand))
        let elapsed = clock.now - started
        guard attached.nics.count == 2 else { fatalError("attached \(attached.nics.count) NICs") }
        if !byHand, attached.nics.map(\.master) != ["eth3", "eth6"] { fatalError("not aligned: \(attached.nics.map(\.master)); \(attached.devices?.problems ?? [])") }
        _ = try await services.release(network: "net", containerID: "c\(index)")
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    return samples.sorted()
}

func p50(_ sorted: [Double]) -> Double { sorted[sorted.count / 2] }

/// The kubelet call alone (Get over the unix socket), for the breakdown.
func measureGet(socket: String) async throws -> [Double] {
    let client = try PodResourcesClient(socketPath: socket)
    _ = try await client.devices(namespace: "default", name: "trainer")
    var samples: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<count {
        let started = clock.now
        _ = try await client.devices(namespace: "default", name: "trainer")
        let elapsed = clock.now - started
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    return samples.sorted()
}
let standIn = try await makeServices(socket: standInSocket, state: "state")
_ = try await measure(standIn, byHand: false)  // warm up: connection to the kubelet, caches
let without = try await measure(standIn, byHand: true)
let with = try await measure(standIn, byHand: false)
print(String(format: "attach (select + allocate + delegates) on 8 NICs, topology policy, %d attaches each:", count))
print(String(format: "  GPUs given by hand (no lookup):                       p50 %.3f ms", p50(without)))
print(String(format: "  GPUs from PodResources + sysfs, the lab's stand-in:   p50 %.3f ms", p50(with)))
print(String(format: "    of which the Get alone:                             p50 %.3f ms", p50(try await measureGet(socket: standInSocket))))
print(String(format: "    the lookup adds %.3f ms at p50 (ratio %.2f)", p50(with) - p50(without), p50(with) / p50(without)))
for (label, socket, state, present) in [("a C-core gRPC server (Python):", fastSocket, "state-grpcio", python != nil),
                                        ("a grpc-go server (as the kubelet):", goSocket, "state-go", goServer != nil)] where present {
    let fast = try await makeServices(socket: socket, state: state)
    _ = try await measure(fast, byHand: false)
    let withFast = try await measure(fast, byHand: false)
    // The anchor again, in this phase: the machine's pace drifts over a run.
    let withoutNow = try await measure(fast, byHand: true)
    print("  GPUs from PodResources + sysfs, " + label.padding(toLength: 35, withPad: " ", startingAt: 0)
        + String(format: " p50 %.3f ms (by hand now: %.3f ms)", p50(withFast), p50(withoutNow)))
    print(String(format: "    of which the Get alone:                             p50 %.3f ms", p50(try await measureGet(socket: socket))))
    print(String(format: "    the lookup adds %.3f ms at p50 (ratio %.2f)", p50(withFast) - p50(withoutNow), p50(withFast) / p50(withoutNow)))
}
