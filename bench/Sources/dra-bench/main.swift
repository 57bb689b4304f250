// DRA mode's node-side costs, in process (no API server: the claims come from memory), on a node with 4 NICs:
//  - NodePrepareResources of a 4-NIC claim, called in process and through the kubelet plugin's unix socket (gRPC),
//  - the CNI ADD of a pod with a prepared claim (its NICs and addresses decided) against one through the attach
//    policy (selection and allocation), each followed by its DEL (not timed).
// Prints the p50s and the ratio claimed/policy ADD.
// Usage: dra-bench <plugins dir> [claims]
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore
import MultiNICDaemon
import MultiNICDRA
import MultiNICIPAM
import MultiNICNetlink
import MultiNICPluginHost
import MultiNICTestSupport
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: dra-bench <plugins dir> [claims]")
    exit(2)
}
let count = arguments.count > 2 ? Int(arguments[2]) ?? 2000 : 2000
let work = "/tmp/mn-dra-bench-\(UInt32.random(in: 0...UInt32.max))"
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
let driver = DRANames.defaultDriver
let nics = (1...4).map { "eth\($0)" }

/// Claims allocated every NIC of the node, reserved for pod `pod-<uid>`.
struct MemoryClaims: ResourceClaimSource {
    func resourceClaim(namespace: String, name: String) async throws(DaemonError) -> JSONValue? {
        let results = nics.map { JSONValue.object(["request": .string("nics"), "driver": .string(driver), "pool": .string("bench"),
                                                   "device": .string($0)]) }
        let config = JSONValue.object(["source": .string("FromClaim"), "requests": .array([.string("nics")]),
                                       "opaque": .object(["driver": .string(driver), "parameters": .object(["network": .string("net")])])])
        return .object(["metadata": .object(["name": .string(name), "namespace": .string(namespace), "uid": .string(name)]),
                        "status": .object(["allocation": .object(["devices": .object(["results": .array(results), "config": .array([config])])]),
                                           "reservedFor": .array([.object(["resource": .string("pods"), "name": .string("pod-" + name),
                                                                           "uid": .string("pod-" + name)])])])])
    }

    func writeDeviceStatus(namespace: String, name: String, driver: String, devices: [JSONValue]) async throws(DaemonError) {}
}

let netlink = FakeNetlink(
    linkList: nics.enumerated().map { LinkInfo(index: Int32($0.offset + 2), name: $0.element, isUp: true, hasCarrier: true, mtu: 1500, kind: "veth") },
    addressList: nics.enumerated().map { AddressInfo(linkIndex: Int32($0.offset + 2), address: IPNetwork("10.0.\($0.offset + 1).11/24")!) })
let loaded = PluginRegistry.load(directory: arguments[1])
let services = try DaemonServices(configuration: DaemonConfiguration(
    nodeName: "bench", stateDirectory: work + "/state", sysfsRoot: work + "/nosys", rtTablesPath: work + "/rt_tables",
    virtualKinds: ["veth"], quarantineSeconds: 0), netlink: netlink, registry: loaded.registry, resourceClaimSource: MemoryClaims())
try await services.setPools(nics.enumerated().map { index, name in
    IPPool(metadata: ObjectMeta(name: "net-10.\(100 + index).0.0-16"), spec: IPPoolSpec(
        podCIDR: "10.\(100 + index).0.0/16", vlanCIDR: "10.\(100 + index).0.0/16", netAttachDef: "net", hostName: "bench", interfaceName: name))
})
let handler = DaemonDRAHandler(services: services, driver: driver)

func p50(_ samples: [Duration]) -> Double {
    let sorted = samples.sorted()
    let (seconds, attoseconds) = sorted[sorted.count / 2].components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}
let clock = ContinuousClock()

// Prepare in process.
var prepareInProcess: [Duration] = []
for index in 0..<count {
    let uid = "claim-\(index)"
    let start = clock.now
    guard case .success(let devices) = await handler.prepare(namespace: "default", name: uid, uid: uid), devices.count == 4 else {
        fatalError("prepare failed")
    }
    prepareInProcess.append(clock.now - start)
    _ = await handler.unprepare(namespace: "default", name: uid, uid: uid)
}

// Prepare through the kubelet plugin's socket, as the kubelet calls it.
let plugin = DRAKubeletPlugin(driver: driver, paths: .init(driver: driver, registryDirectory: work + "/registry", pluginsDirectory: work + "/plugins"),
                              handler: handler)
try await plugin.start()
let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: plugin.paths.pluginSocket), transportSecurity: .plaintext)
let grpc = GRPCClient(transport: transport)
let connections = Task { try? await grpc.runConnections() }
let dra = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client(wrapping: grpc)
var prepareSocket: [Duration] = []
for index in 0..<count {
    var claim = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim()
    claim.namespace = "default"
    claim.name = "sock-\(index)"
    claim.uid = claim.name
    var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest()
    request.claims = [claim]
    let start = clock.now
    let answer = try await dra.nodePrepareResources(request)
    prepareSocket.append(clock.now - start)
    guard answer.claims[claim.uid]?.error.isEmpty == true else { fatalError("prepare over the socket failed") }
    _ = await handler.unprepare(namespace: "default", name: claim.name, uid: claim.uid)
}
grpc.beginGracefulShutdown()
connections.cancel()
await plugin.stop()

// ADD with a prepared claim against ADD through the policy (4 NICs each).
let plugin4: [String: JSONValue] = ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")]
func add(pod: String, container: String) async throws -> Duration {
    let query = NICQuery(network: "net", pod: PodRef(namespace: "default", name: pod, uid: pod), masterNets: nics.indices.map { "10.0.\($0 + 1).0/24" },
                         request: PodRequest(nics: 4))
    let start = clock.now
    let attached = try await services.attach(AttachmentRequest(query: query, containerID: container, ifName: "net1", cniVersion: "1.0.0",
                                                               plugin: plugin4))
    let elapsed = clock.now - start
    guard attached.count == 4 else { fatalError("\(attached.count) NICs attached") }
    _ = try await services.detach(DetachmentRequest(network: "net", containerID: container, attachment: "net1", cniVersion: "1.0.0",
                                                    plugin: plugin4))
    return elapsed
}
var claimed: [Duration] = []
var policy: [Duration] = []
for index in 0..<count {
    let uid = "add-\(index)"
    guard case .success = await handler.prepare(namespace: "default", name: uid, uid: uid) else { fatalError("prepare failed") }
    claimed.append(try await add(pod: "pod-" + uid, container: "c-" + uid))
    _ = await handler.unprepare(namespace: "default", name: uid, uid: uid)
    policy.append(try await add(pod: "plain-\(index)", container: "p-\(index)"))
}
print(String(format: "dra-bench: %d claims of 4 NICs; Prepare p50 %.3f ms in process, %.3f ms through the plugin socket", count,
             p50(prepareInProcess), p50(prepareSocket)))
print(String(format: "dra-bench: ADD of 4 NICs p50 %.3f ms with a prepared claim, %.3f ms through the policy: ratio %.2f",
             p50(claimed), p50(policy), p50(claimed) / p50(policy)))
