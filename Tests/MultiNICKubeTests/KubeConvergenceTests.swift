import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Synchronization
import Testing

/// What kept the operator from converging on a real API server (issue 21), each against the in-test server in its
/// kube-apiserver-faithful typing of lists.
@Suite struct KubeConvergenceTests {
    final class Messages: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func withServer(schemas: KubernetesSchemas? = .bundled, _ body: (FakeAPIServer, KubeClient) async throws -> Void) async throws {
        let server = try await FakeAPIServer(schemas: schemas)
        defer { server.stop() }
        try await body(server, KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000))
    }

    @Test func listsOfBuiltInKindsComeUntypedAndStillDecode() async throws {
        try await withServer { server, client in
            _ = try await client.create(ClusterNode(metadata: ObjectMeta(name: "n1"), spec: NodeSpec()))
            let raw = try JSONValue.parse(String(decoding: try await client.call("GET", "/api/v1/nodes"), as: UTF8.self))
            #expect(raw.objectValue?["kind"] == .string("NodeList"))
            #expect(raw.objectValue?["items"]?.arrayValue?.first?.objectValue?["apiVersion"] == nil, "typed as kube-apiserver types it")
            #expect(try await client.list(NodeSpec.self, namespace: nil).items.map(\.kind) == ["Node"])
            let store = KubernetesStore(client: client, cached: [NodeSpec.self])
            #expect(try await store.list(NodeSpec.self).map(\.name) == ["n1"], "the informer syncs")
            let objects = try await store.listObjects(apiVersion: "v1", kind: "Node", labels: [:])
            #expect(objects.first?.objectValue?["kind"] == .string("Node") && objects.first?.objectValue?["apiVersion"] == .string("v1"))
        }
    }

    @Test func aWatchThatEndsAtOnceIsReopenedWithBackoff() async throws {
        try await withServer { server, client in
            _ = try await client.create(ClusterNode(metadata: ObjectMeta(name: "n1"), spec: NodeSpec()))
            server.closeWatchesAtOnce(true)
            let messages = Messages()
            let store = KubernetesStore(client: client, cached: [NodeSpec.self], log: messages.append)
            _ = try await store.list(NodeSpec.self)
            // On a loaded machine a watch may take over a second to end and so not count as short: wait for a short one.
            let deadline = ContinuousClock.now + .seconds(20)
            while !messages.all.contains(where: { $0.contains("ended at once") }) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(messages.all.contains { $0.contains("ended at once") }, "\(messages.all)")
            let before = server.log.all.filter { $0.hasPrefix("GET /api/v1/nodes?") && $0.contains("watch=1") }.count
            try await Task.sleep(for: .seconds(3))
            let watches = server.log.all.filter { $0.hasPrefix("GET /api/v1/nodes?") && $0.contains("watch=1") }.count - before
            // Backing off from 200 ms doubling: at most a handful in three seconds (a tight loop makes hundreds).
            #expect(watches <= 8, "\(watches) watches in 3 s")
            // Watches that stay open again: no more reopening.
            server.closeWatchesAtOnce(false)
            try await Task.sleep(for: .seconds(2))
            let later = server.log.all.filter { $0.hasPrefix("GET /api/v1/nodes?") && $0.contains("watch=1") }.count
            try await Task.sleep(for: .seconds(1))
            #expect(server.log.all.filter { $0.hasPrefix("GET /api/v1/nodes?") && $0.contains("watch=1") }.count == later)
        }
    }

    @Test func anInformerThatCannotSyncSaysWhyInTheLogAndItsHealth() async throws {
        // A network without `ipam` or `plugin`, stored before the CRD required them (this server checks no schema):
        // the list cannot be decoded, and the reason names the field.
        try await withServer(schemas: nil) { server, client in
            _ = try await client.call("POST", "/apis/net.cogadvisor.io/v1/multinicnetworks", body: Array(
                #"{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"broken"},"spec":{"subnet":"10.0.0.0/8"}}"#.utf8))
            let messages = Messages()
            let store = KubernetesStore(client: client, cached: [MultiNicNetworkSpec.self], log: messages.append)
            await #expect(throws: StoreError.self) { _ = try await store.list(MultiNicNetworkSpec.self) }
            let health = try #require(await store.informerHealth().first)
            #expect(!health.synced && health.failures >= 1 && health.lastFailure?.contains("ipam") == true, "\(health)")
            #expect(messages.all.contains { $0.contains("list of MultiNicNetwork failed") && $0.contains("ipam") }, "\(messages.all)")
        }
    }

    /// The DaemonSet is server-side applied: one read of it (a DaemonSet MultiNIC did not make is left alone) and one
    /// apply per reconcile, no list; an unchanged render stores
    /// nothing (same resourceVersion), a changed one is stored, and a field the Config no longer sets (a node-selector
    /// key) disappears — a merge patch would have kept it.
    @Test func theDaemonSetIsServerSideAppliedAndAnUnchangedOneIsNotWritten() async throws {
        try await withServer { server, client in
            let store = KubernetesStore(client: client)
            var config = try await client.create(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec(daemon: DaemonSpec(
                image: "x/d:1", nodeSelector: ["kubernetes.io/os": "linux", "multinic": "yes"]))))
            let reconciler = DaemonSetReconciler(store: store, namespace: "ops")
            func requests() -> [String] { server.log.all.filter { $0.contains("/daemonsets") } }
            func stored() -> [String: JSONValue] { server.objects("apis/apps/v1/daemonsets").first?.objectValue ?? [:] }
            func version() -> String? { stored()["metadata"]?.objectValue?["resourceVersion"]?.stringValue }
            #expect(await reconciler.reconcile("multi-nicd") == .done)
            let first = version()
            #expect(first != nil)
            #expect(await reconciler.reconcile("multi-nicd") == .done)
            #expect(await reconciler.reconcile("multi-nicd") == .done)
            #expect(version() == first, "an unchanged render is not stored again")
            let patches = requests().filter { $0.hasPrefix("PATCH") }
            #expect(patches.count == 3 && patches.allSatisfy {
                $0.contains("fieldManager=multinic-operator") && $0.contains("force=true")
            }, "\(requests())")
            #expect(requests() == Array(repeating: ["GET /apis/apps/v1/namespaces/ops/daemonsets/multi-nicd", patches[0]], count: 3).flatMap { $0 },
                    "\(requests())")
            config.spec.daemon.image = "x/d:2"
            config.spec.daemon.nodeSelector = ["kubernetes.io/os": "linux"]
            config = try await client.replace(config)
            #expect(await reconciler.reconcile("multi-nicd") == .done)
            #expect(version() != first)
            let pod = stored()["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue
            #expect(pod?["nodeSelector"] == .object(["kubernetes.io/os": .string("linux")]), "\(String(describing: pod?["nodeSelector"]))")
            #expect(pod?["containers"]?.arrayValue?.first?.objectValue?["image"] == .string("x/d:2"))
        }
    }


    @Test func concurrentCallersShareOneListOfTheDaemonsPods() async throws {
        try await withServer { server, client in
            let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"d1","labels":{"app":"multi-nicd"}},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox:1.36"}]}}"#
            var created = try JSONValue.parse(String(decoding: try await client.call("POST", "/api/v1/namespaces/ops/pods", body: Array(pod.utf8)),
                                                     as: UTF8.self)).objectValue ?? [:]
            created["status"] = .object(["phase": .string("Running"), "podIP": .string("127.0.0.1")])
            _ = try await client.call("PUT", "/api/v1/namespaces/ops/pods/d1/status", body: Array(JSONValue.object(created).description.utf8))
            let fleet = KubeDaemonFleet(client: client, namespace: "ops", token: nil)
            let before = server.log.all.count
            async let a = fleet.nodes()
            async let b = fleet.nodes()
            async let c = fleet.nodes()
            async let d = fleet.nodes()
            let answers = await [a, b, c, d]
            #expect(answers.allSatisfy { $0 == ["n1"] })
            let lists = server.log.all.dropFirst(before).filter { $0.hasPrefix("GET /api/v1/namespaces/ops/pods") }
            #expect(lists.count == 1, "\(lists)")
        }
    }
}
