#if canImport(GRPCCore)
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore
import MultiNICDRA
import MultiNICKubeFake
import MultiNICTestSupport
import Synchronization
import Testing

/// DRA mode through the real path: multi-nicd (`--dra-driver`) in a host namespace publishing its NICs and serving
/// the kubelet plugin; the test plays the scheduler (a claim allocated eth2 of the published slice, reserved for the
/// pod) and the kubelet (NodePrepareResources over the real socket, then the real `multi-nic` ADD): the pod gets
/// exactly eth2 with the prepared address, the claim's status names the pod interface, DEL keeps the address for the
/// claim and unprepare frees it.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root and iproute2 (CI runs as root)"), .serialized)
struct DRAEndToEndTests {
    static let driver = DRANames.defaultDriver

    @Test func thePodGetsExactlyTheClaimedNICWithThePreparedAddress() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeTestClient(server)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-dra-e2e-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try client.writeRelayedKubeconfig(to: directory + "/kubeconfig")
        let serverPort = client.port
        let arguments = ["--kubeconfig", directory + "/kubeconfig", "--dra-driver", Self.driver, "--dra-publish-seconds", "0.2",
                         "--kubelet-registry-dir", directory + "/registry", "--kubelet-plugins-dir", directory + "/plugins"]

        try CNICluster.with(hosts: 1, nics: 2, daemonArguments: arguments) { cluster in
            let relay = try NamespaceRelay(namespace: cluster.hosts[0].namespace, listenPort: 6443, to: serverPort)
            defer { relay.stop() }
            // The scheduler: host-0's slice lists eth1 and eth2; the claim gets eth2 for pod "p0".
            var slice: JSONValue?
            for _ in 0..<200 where slice == nil {
                slice = server.objects("apis/resource.k8s.io/v1/resourceslices").first
                if slice == nil { usleep(50_000) }
            }
            let names = slice?.objectValue?["spec"]?.objectValue?["devices"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
            #expect(names == ["eth1", "eth2"], "\(String(describing: slice))")
            let uid = try Self.makeClaim(client, server: server)
            try Self.prepare(socket: directory + "/plugins/\(Self.driver)/dra.sock", uid: uid)
            #expect(cluster.inUse(host: 0) == 1, "one address prepared: \(cluster.status(host: 0))")

            let config = cluster.config("1.0.0", host: 0)
            let (added, output) = try cluster.run("ADD", host: 0, config: config, container: "c0", pod: "p0")
            #expect(added == 0, "\(output)")
            let inPod = (try? TestNamespace.ip("-n", cluster.pods[0], "-d", "-br", "-4", "addr")) ?? ""
            let lines = inPod.split(separator: "\n").filter { $0.hasPrefix("net1-") }
            #expect(lines.count == 1 && lines[0].hasPrefix("net1-0@") && lines[0].contains("192.168.64."), "only eth2's network: \(inPod)")
            let status = server.objects("apis/resource.k8s.io/v1/resourceclaims").first?.objectValue?["status"]?.objectValue
            let device = status?["devices"]?.arrayValue?.first?.objectValue
            #expect(device?["device"] == .string("eth2") && device?["networkData"]?.objectValue?["interfaceName"] == .string("net1-0"))
            #expect(device?["networkData"]?.objectValue?["hardwareAddress"]?.stringValue?.count == 17, "\(String(describing: device))")

            #expect(try cluster.run("DEL", host: 0, config: config, container: "c0", pod: "p0").0 == 0)
            #expect(cluster.inUse(host: 0) == 1, "the claim keeps its address")
            try Self.prepare(socket: directory + "/plugins/\(Self.driver)/dra.sock", uid: uid, unprepare: true)
            #expect(cluster.inUse(host: 0) == 0)
        }
    }

    /// A claim for eth2 of host-0 with network `net`, reserved for pod p0 (UID p0, as CNICluster passes it).
    static func makeClaim(_ client: KubeTestClient, server: FakeAPIServer) throws -> String {
        let config: JSONValue = .object(["requests": .array([.string("nics")]),
                                         "opaque": .object(["driver": .string(driver), "parameters": .object(["network": .string("net")])])])
        let claim: JSONValue = .object([
            "apiVersion": .string("resource.k8s.io/v1"), "kind": .string("ResourceClaim"),
            "metadata": .object(["name": .string("nic"), "namespace": .string("default")]),
            "spec": .object(["devices": .object(["requests": .array([.object(["name": .string("nics"), "exactly": .object([
                "deviceClassName": .string("multinic-nic")])])]), "config": .array([config])])]),
        ])
        var created = try client.send("POST", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", claim).objectValue ?? [:]
        var withSource = config.objectValue ?? [:]
        withSource["source"] = .string("FromClaim")
        created["status"] = .object([
            "allocation": .object(["devices": .object([
                "results": .array([.object(["request": .string("nics"), "driver": .string(driver), "pool": .string("host-0"),
                                            "device": .string("eth2")])]),
                "config": .array([.object(withSource)])])]),
            "reservedFor": .array([.object(["resource": .string("pods"), "name": .string("p0"), "uid": .string("p0")])]),
        ])
        _ = try client.send("PUT", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/nic/status", .object(created))
        return created["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
    }

    /// The kubelet's NodePrepareResources (or Unprepare) of claim `uid` over the plugin's socket.
    static func prepare(socket: String, uid: String, unprepare: Bool = false) throws {
        final class Outcome: Sendable {
            let value = Mutex<Result<String, any Error>>(.success(""))
        }
        let outcome = Outcome()
        _ = OSThread.runAndWait {
            let semaphore = DispatchSemaphore(value: 0)
            Task {
                do {
                    let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
                    let grpc = GRPCClient(transport: transport)
                    let running = Task { try? await grpc.runConnections() }
                    defer { grpc.beginGracefulShutdown(); running.cancel() }
                    var claim = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim()
                    claim.namespace = "default"
                    claim.name = "nic"
                    claim.uid = uid
                    let dra = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client(wrapping: grpc)
                    let error: String
                    if unprepare {
                        var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesRequest()
                        request.claims = [claim]
                        error = try await dra.nodeUnprepareResources(request).claims[uid]?.error ?? "no answer"
                    } else {
                        var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest()
                        request.claims = [claim]
                        error = try await dra.nodePrepareResources(request).claims[uid]?.error ?? "no answer"
                    }
                    outcome.value.withLock { $0 = .success(error) }
                } catch {
                    outcome.value.withLock { $0 = .failure(error) }
                }
                semaphore.signal()
            }
            semaphore.wait()
        }
        let error = try outcome.value.withLock { $0 }.get()
        guard error.isEmpty else { throw PluginTestFailure("\(unprepare ? "unprepare" : "prepare"): \(error)") }
    }
}
#endif
