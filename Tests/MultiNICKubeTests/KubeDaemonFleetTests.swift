import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// A real multi-nicd over TCP with a token, found through its DaemonSet pod on the in-test API server.
final class FleetFixture {
    let server: FakeAPIServer
    let client: KubeClient
    let directory: String
    let plugins: String
    let daemon: RunningDaemon
    // Below the kernel's ephemeral range (32768+), where outgoing connections of parallel tests could hold it.
    let port = Int.random(in: 20000...29999)

    init() async throws {
        server = try await FakeAPIServer()
        client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-fleet-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try PrivateFile.store(Array("fleet-token-0123456789\n".utf8), at: directory + "/token")
        plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        daemon = try RunningDaemon(directory: directory, pluginsDirectory: plugins,
                                   arguments: ["--port", String(port), "--bind", "127.0.0.1", "--token-file", directory + "/token"])
        // The DaemonSet's pod on node n1 (host network: the pod IP is the node's).
        try await pod("multi-nicd-x1", namespace: "ops", labels: ["app": "multi-nicd"], node: "n1", ip: "127.0.0.1")
    }

    deinit {
        daemon.kill()
        server.stop()
        try? FileManager.default.removeItem(atPath: plugins)
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates a running pod; returns its UID.
    @discardableResult
    func pod(_ name: String, namespace: String = "default", labels: [String: String] = [:], node: String,
             ip: String = "10.244.0.9") async throws -> String {
        let pod: JSONValue = .object(["apiVersion": .string("v1"), "kind": .string("Pod"),
                                      "metadata": .object(["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))]),
                                      "spec": .object(["nodeName": .string(node), "containers": .array([.object(["name": .string("c"), "image": .string("busybox:1.36")])])])])
        let created = try JSONValue.parse(String(decoding: try await client.call("POST", "/api/v1/namespaces/\(namespace)/pods",
                                                                                  body: Array(pod.description.utf8)), as: UTF8.self))
        var withStatus = created.objectValue ?? [:]
        withStatus["status"] = .object(["phase": .string("Running"), "podIP": .string(ip)])
        _ = try await client.call("PUT", "/api/v1/namespaces/\(namespace)/pods/\(name)/status",
                                  body: Array(JSONValue.object(withStatus).description.utf8))
        return created.objectValue?["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
    }

    /// Allocates one address for a pod through the daemon's socket (as the CNI binary would).
    func allocate(pod: String, uid: String, container: String) throws {
        let body = #"{"pod":"\#(pod)","namespace":"default","host":"n1","def":"net","masters":["lo"],"containerID":"\#(container)","#
            + #""ifNames":["net1"],"podUID":"\#(uid)"}"#
        let answer = UnixHTTPClient(path: daemon.socketPath)?.request("POST", DaemonAPI.allocatePath, body: body)
        guard answer?.status == 200 else { throw PluginTestFailure("allocate failed: \(String(describing: answer))") }
    }
}

@Suite(.ownThread) struct KubeDaemonFleetTests {
    @Test func daemonsAreFoundByTheirPodsAndCalledWithTheToken() async throws {
        let fixture = try await FleetFixture()
        try await fixture.pod("web", labels: ["app": "web"], node: "n2")
        let fleet = KubeDaemonFleet(client: fixture.client, namespace: "ops", port: fixture.port, token: "fleet-token-0123456789")
        #expect(await fleet.nodes() == ["n1"], "only the daemon's pods")
        _ = try await fleet.interfaces(node: "n1")
        let pool = IPPool(metadata: ObjectMeta(name: "p"), spec: IPPoolSpec(podCIDR: "10.60.0.0/16", vlanCIDR: "10.60.0.0/16",
                                                                            netAttachDef: "net", hostName: "n1", interfaceName: "lo"))
        try await fleet.setPools(node: "n1", [pool])
        let listed = fixture.server.log.all.filter { $0.contains("/pods") && $0.hasPrefix("GET") }
        #expect(listed.allSatisfy { $0.contains("labelSelector=app%3Dmulti-nicd") }, "never an unfiltered pod list: \(listed)")

        let intruder = KubeDaemonFleet(client: fixture.client, namespace: "ops", port: fixture.port, token: "wrong")
        do {
            try await intruder.setPools(node: "n1", [])
            Issue.record("a wrong token must be refused")
        } catch {
            guard case .rejected(_, 401, _) = error else { Issue.record("expected 401, got \(error)"); return }
        }
        do {
            _ = try await fleet.interfaces(node: "n2")
            Issue.record("n2 has no daemon")
        } catch {
            guard case .unreachable = error else { Issue.record("expected unreachable, got \(error)"); return }
        }
    }

    /// The controller's leak sweep end to end: the real daemon's leases, pods on the API server, release over TCP.
    @Test func theLeakSweepReleasesOnlyTheLeasesOfPodsThatAreGone() async throws {
        let fixture = try await FleetFixture()
        let liveUID = try await fixture.pod("live", node: "n1")
        let deletedUID = try await fixture.pod("deleted", node: "n1")
        try fixture.allocate(pod: "live", uid: liveUID, container: "c-live")
        try fixture.allocate(pod: "deleted", uid: deletedUID, container: "c-deleted")
        try fixture.allocate(pod: "never-seen", uid: "uid-of-a-pod-long-gone", container: "c-old")
        _ = try await fixture.client.call("DELETE", "/api/v1/namespaces/default/pods/deleted")

        let fleet = KubeDaemonFleet(client: fixture.client, namespace: "ops", port: fixture.port, token: "fleet-token-0123456789")
        let before = try await fleet.podLeases(node: "n1")
        #expect(before.pods.map(\.name).sorted() == ["deleted", "live", "never-seen"])
        let sweep = LeakSweepReconciler(fleet: fleet, pods: KubePodDirectory(client: fixture.client))
        _ = await sweep.reconcile("n1")
        let after = try await fleet.podLeases(node: "n1")
        #expect(after.pods.map(\.uid) == [liveUID], "the live pod keeps its address, the others are released")

        let podReads = fixture.server.log.all.filter { $0.hasPrefix("GET /api/v1/pods") || $0.hasPrefix("GET /api/v1/namespaces/default/pods") }
        #expect(podReads.contains { $0.contains("fieldSelector=spec.nodeName%3Dn1") && $0.contains("resourceVersion=0") }, "\(podReads)")
        #expect(podReads.allSatisfy { $0.contains("fieldSelector=") || $0.contains("/pods/") }, "never an unfiltered pod list: \(podReads)")
    }
}
