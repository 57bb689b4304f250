// What asking the kubelet costs an attach: the daemon's /attach path in process (select, allocate, delegate configs,
// then release) on the 8-GPU/8-NIC server layout with the topology policy, once with the pod's GPUs looked up through
// PodResources (the lab's stand-in kubelet, another process, gRPC on a unix socket) and the sysfs tree, once with the GPUs given by hand
// (no lookup). Prints both p50s and their difference.
// Usage: topology-bench <plugins dir> <multinicctl> [attaches]
import Foundation
import MultiNICCore
import MultiNICDaemon
import MultiNICIPAM
import MultiNICKubelet
import MultiNICLab
import MultiNICNetlink
import MultiNICPluginHost
import MultiNICTestSupport

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: topology-bench <plugins dir> <multinicctl> [attaches]")
    exit(2)
}
let count = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000
let work = "/tmp/mn-topology-bench-\(UInt32.random(in: 0...UInt32.max))"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

let hardware = LabHardware.eightGPUServer()
try hardware.write(sysfsRoot: work + "/sys", nvidiaRoot: work + "/nvidia")
let nics = (1...8).map { "eth\($0)" }
let netlink = FakeNetlink(
    linkList: nics.enumerated().map { LinkInfo(index: Int32($0.offset + 2), name: $0.element, isUp: true, hasCarrier: true, mtu: 1500, kind: "") },
    addressList: nics.enumerated().map { AddressInfo(linkIndex: Int32($0.offset + 2), address: IPNetwork("10.0.\($0.offset + 1).11/24")!) })
var configuration = DaemonConfiguration(nodeName: "bench", stateDirectory: work + "/state", sysfsRoot: work + "/sys",
                                        rtTablesPath: work + "/rt_tables", quarantineSeconds: 0, kubeletCheckpointPath: work + "/checkpoint")
configuration.podResourcesSocket = work + "/kubelet.sock"
configuration.nvidiaRoot = work + "/nvidia"
let loaded = PluginRegistry.load(directory: arguments[1])
let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: loaded.registry)
try await services.setPools(nics.enumerated().map { index, name in
    IPPool(metadata: ObjectMeta(name: "net-10.\(100 + index).0.0-16"), spec: IPPoolSpec(
        podCIDR: "10.\(100 + index).0.0/16", vlanCIDR: "10.\(100 + index).0.0/16", netAttachDef: "net", hostName: "bench", interfaceName: name))
})
let gpus = hardware.gpus
// The kubelet is another process, as on a node: `multinicctl lab kubelet` (the lab's stand-in) serving the pod.
let podsFile = work + "/pods.json"
try JSONEncoder().encode([PodResourcesServer.Pod(namespace: "default", name: "trainer", containers: [.init(name: "main", devices: [
    .init(resourceName: "nvidia.com/gpu", deviceIDs: [gpus[2].uuid, gpus[5].uuid])])])]).write(to: URL(fileURLWithPath: podsFile))
let kubelet = Process()
kubelet.executableURL = URL(fileURLWithPath: arguments[2])
kubelet.arguments = ["lab", "kubelet", "--socket", configuration.podResourcesSocket, "--pods-file", podsFile]
kubelet.standardError = FileHandle.nullDevice
try kubelet.run()
defer { kubelet.terminate() }
for _ in 0..<500 where !FileManager.default.fileExists(atPath: configuration.podResourcesSocket) { usleep(10_000) }

func request(_ index: Int, byHand: Bool) -> AttachmentRequest {
    let query = NICQuery(network: "net", pod: PodRef(namespace: "default", name: "trainer", uid: "u"),
                         request: PodRequest(nics: 2), policy: AttachPolicySpec(strategy: "topology"),
                         gpusPerNUMA: byHand ? [0: 1, 1: 1] : [:])
    return AttachmentRequest(query: query, containerID: "c\(index)", ifName: "net1", cniVersion: "1.0.0",
                             plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")])
}

func measure(byHand: Bool) async throws -> [Double] {
    var samples: [Double] = []
    let clock = ContinuousClock()
    for index in 0..<count {
        let started = clock.now
        let attached = try await services.attachWithDevices(request(index, byHand: byHand))
        let elapsed = clock.now - started
        guard attached.nics.count == 2 else { fatalError("attached \(attached.nics.count) NICs") }
        if !byHand, attached.nics.map(\.master) != ["eth3", "eth6"] { fatalError("not aligned: \(attached.nics.map(\.master))") }
        _ = try await services.release(network: "net", containerID: "c\(index)")
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    return samples.sorted()
}

func p50(_ sorted: [Double]) -> Double { sorted[sorted.count / 2] }

/// The kubelet call alone (Get over the unix socket), for the breakdown.
@MainActor func measureGet() async throws -> [Double] {
    let client = try PodResourcesClient(socketPath: configuration.podResourcesSocket)
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
_ = try await measure(byHand: false)  // warm up: connection to the kubelet, caches
let without = try await measure(byHand: true)
let with = try await measure(byHand: false)
print(String(format: "attach (select + allocate + delegates) on 8 NICs, topology policy, %d attaches each:", count))
print(String(format: "  GPUs given by hand (no lookup):          p50 %.3f ms", p50(without)))
print(String(format: "  GPUs from PodResources + sysfs (lookup): p50 %.3f ms", p50(with)))
print(String(format: "  of which the PodResources Get alone:    p50 %.3f ms", p50(try await measureGet())))
print(String(format: "  the lookup adds %.3f ms at p50 (ratio %.2f)", p50(with) - p50(without), p50(with) / p50(without)))
