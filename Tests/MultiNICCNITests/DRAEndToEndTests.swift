#if canImport(GRPCCore)
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore
import MultiNICDRA
import MultiNICKubeFake
import MultiNICRender
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

    /// An in-test API server, a directory holding the kubeconfig a daemon in a host namespace reaches it with (through
    /// a relay on port 6443) and multi-nicd's DRA flags for sockets in that directory.
    static func withAPIServer(_ body: (FakeAPIServer, KubeTestClient, _ directory: String, _ daemonArguments: [String]) async throws -> Void)
        async throws
    {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeTestClient(server)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-dra-e2e-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try client.writeRelayedKubeconfig(to: directory + "/kubeconfig")
        try await body(server, client, directory, [
            "--kubeconfig", directory + "/kubeconfig", "--dra-driver", Self.driver, "--dra-publish-seconds", "0.2",
            "--kubelet-registry-dir", directory + "/registry", "--kubelet-plugins-dir", directory + "/plugins"])
    }

    @Test func thePodGetsExactlyTheClaimedNICWithThePreparedAddress() async throws {
      try await Self.withAPIServer { server, client, directory, arguments in
        let serverPort = client.port
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
    }

    /// Multus's handshake through every seam: the operator renders the network's NAD with
    /// `k8s.v1.cni.cncf.io/resourceName` equal to the slices' `k8s.cni.cncf.io/resourceName`; Multus (the test) hands
    /// each of the pod's two attachments of the network the `k8s.cni.cncf.io/deviceID` of one of its two claims,
    /// written into the NAD's config; each ADD attaches that claim's NIC. By pod UID alone both would get one claim.
    @Test func multusHandsEachAttachmentTheDeviceOfItsOwnClaim() async throws {
      try await Self.withAPIServer { server, client, directory, arguments in
        let serverPort = client.port
        let socket = directory + "/plugins/\(Self.driver)/dra.sock"
        var operatorConfig = ConfigSpec()
        operatorConfig.daemon.draDriver = Self.driver
        let rendered = try NetworkRenderer(registry: BuiltPlugins.registry(), config: operatorConfig)
            .render(SeamEndToEndTests.network(), hosts: [], clusterNamespaces: ["default"])
        let nad = try #require(rendered.attachments.first)
        let resourceName = try #require(nad.metadata.annotations?[NetworkAttachmentDefinitionSpec.resourceNameAnnotation])

        try CNICluster.with(hosts: 1, nics: 2, daemonArguments: arguments) { cluster in
            let relay = try NamespaceRelay(namespace: cluster.hosts[0].namespace, listenPort: 6443, to: serverPort)
            defer { relay.stop() }
            var devices: [String: [String: JSONValue]] = [:]
            for _ in 0..<200 where devices.count < 2 {
                for device in server.objects("apis/resource.k8s.io/v1/resourceslices").first?.objectValue?["spec"]?
                    .objectValue?["devices"]?.arrayValue ?? [] {
                    if let name = device.objectValue?["name"]?.stringValue { devices[name] = device.objectValue?["attributes"]?.objectValue }
                }
                if devices.count < 2 { usleep(50_000) }
            }
            // What Multus reads from the slice of each allocated device.
            func multus(_ device: String, _ attribute: String) -> String? {
                devices[device]?[attribute]?.objectValue?["string"]?.stringValue
            }
            #expect(multus("eth1", DRANames.multusResourceNameAttribute) == resourceName, "the NAD and the slices agree: \(devices)")
            let eth1 = try #require(multus("eth1", DRANames.multusDeviceIDAttribute))
            let eth2 = try #require(multus("eth2", DRANames.multusDeviceIDAttribute))
            #expect(eth1 != eth2)
            let first = try Self.makeClaim(client, server: server, name: "nic-a", device: "eth1")
            let second = try Self.makeClaim(client, server: server, name: "nic-b", device: "eth2")
            try Self.prepare(socket: socket, uid: first, name: "nic-a")
            try Self.prepare(socket: socket, uid: second, name: "nic-b")
            // Multus: the first attachment gets the first device ID of the resource, the second the next; the test
            // lists claim b's first so that neither claim order nor UID order would give the right answer by luck.
            for (ifName, deviceID) in [("net1", eth2), ("net2", eth1)] {
                var config = try #require(try JSONValue.parse(nad.spec.config).objectValue)
                config["deviceID"] = .string(deviceID)
                let (added, output) = try cluster.run("ADD", host: 0, config: JSONValue.object(config).description, container: "c0",
                                                      ifName: ifName, pod: "p0")
                #expect(added == 0, "\(ifName): \(output)")
            }
            let claims = Dictionary(server.objects("apis/resource.k8s.io/v1/resourceclaims").compactMap { claim in
                claim.objectValue.map { ($0["metadata"]?.objectValue?["name"]?.stringValue ?? "", $0) }
            }) { first, _ in first }
            func networkData(_ claim: String) -> [String: JSONValue]? {
                claims[claim]?["status"]?.objectValue?["devices"]?.arrayValue?.first?.objectValue?["networkData"]?.objectValue
            }
            #expect(networkData("nic-b")?["interfaceName"] == .string("net1-0"), "\(String(describing: networkData("nic-b")))")
            #expect(networkData("nic-a")?["interfaceName"] == .string("net2-0"), "\(String(describing: networkData("nic-a")))")
            let inPod = (try? TestNamespace.ip("-n", cluster.pods[0], "-br", "-4", "addr")) ?? ""
            for (claim, ifName) in [("nic-b", "net1-0"), ("nic-a", "net2-0")] {
                let address = networkData(claim)?["ips"]?.arrayValue?.first?.stringValue ?? "?"
                #expect(inPod.split(separator: "\n").contains { $0.hasPrefix(ifName) && $0.contains(address) }, "\(ifName) \(address): \(inPod)")
            }
            #expect(cluster.inUse(host: 0) == 2, "two prepared addresses, no other: \(cluster.status(host: 0))")

            // A device ID of someone else's claim is refused: the NetConf is the namespace users'.
            var forged = try #require(try JSONValue.parse(nad.spec.config).objectValue)
            forged["deviceID"] = .string(eth1)
            let (refused, answer) = try cluster.run("ADD", host: 0, config: JSONValue.object(forged).description, container: "c9", pod: "p9")
            #expect(refused != 0 && answer.contains("not reserved for pod default/p9"), "\(answer)")

            for ifName in ["net1", "net2"] {
                #expect(try cluster.run("DEL", host: 0, config: nad.spec.config, container: "c0", ifName: ifName, pod: "p0").0 == 0)
            }
            try Self.prepare(socket: socket, uid: first, name: "nic-a", unprepare: true)
            try Self.prepare(socket: socket, uid: second, name: "nic-b", unprepare: true)
            #expect(cluster.inUse(host: 0) == 0)
        }
      }
    }

    /// A claim (`name`) for `device` of host-0 with network `net`, reserved for pod p0 (UID p0, as CNICluster passes it).
    static func makeClaim(_ client: KubeTestClient, server: FakeAPIServer, name: String = "nic", device: String = "eth2") throws -> String {
        let config: JSONValue = .object(["requests": .array([.string("nics")]),
                                         "opaque": .object(["driver": .string(driver), "parameters": .object(["network": .string("net")])])])
        let claim: JSONValue = .object([
            "apiVersion": .string("resource.k8s.io/v1"), "kind": .string("ResourceClaim"),
            "metadata": .object(["name": .string(name), "namespace": .string("default")]),
            "spec": .object(["devices": .object(["requests": .array([.object(["name": .string("nics"), "exactly": .object([
                "deviceClassName": .string("multinic-nic")])])]), "config": .array([config])])]),
        ])
        var created = try client.send("POST", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", claim).objectValue ?? [:]
        var withSource = config.objectValue ?? [:]
        withSource["source"] = .string("FromClaim")
        created["status"] = .object([
            "allocation": .object(["devices": .object([
                "results": .array([.object(["request": .string("nics"), "driver": .string(driver), "pool": .string("host-0"),
                                            "device": .string(device)])]),
                "config": .array([.object(withSource)])])]),
            "reservedFor": .array([.object(["resource": .string("pods"), "name": .string("p0"), "uid": .string("p0")])]),
        ])
        _ = try client.send("PUT", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/\(name)/status", .object(created))
        return created["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
    }

    /// The kubelet's NodePrepareResources (or Unprepare) of claim `uid` over the plugin's socket.
    static func prepare(socket: String, uid: String, name: String = "nic", unprepare: Bool = false) throws {
        final class Outcome: Sendable {
            let value = Mutex<Result<String, any Error>>(.success(""))
        }
        let outcome = Outcome()
        _ = OSThread.runAndWait {
            let semaphore = DispatchSemaphore(value: 0)
            Task {
                do {
                    let client = DRAKubeletClient(socket: socket)
                    let claim = DRAKubeletClient.Claim(namespace: "default", name: name, uid: uid)
                    let error: String
                    if unprepare {
                        error = try await client.unprepare([claim])[uid].map { $0?.description ?? "" } ?? "no answer"
                    } else {
                        switch try await client.prepare([claim])[uid] {
                        case .success?: error = ""
                        case .failure(let failure)?: error = failure.description
                        case nil: error = "no answer"
                        }
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
