import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
@testable import MultiNICKube
import MultiNICKubeFake
import Testing

/// The Kubernetes store's informers: reads from memory, own writes visible at once, others' changes through the watch,
/// and a relist after the watch history is gone that reports what happened meanwhile.
@Suite struct InformerTests {
    func node(_ name: String, zone: String = "a") -> ClusterNode {
        ClusterNode(metadata: ObjectMeta(name: name, labels: ["zone": zone]), spec: NodeSpec())
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<200 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    /// The events until `done` holds, or all that came within 10 s.
    func collect(_ events: AsyncStream<StoreEvent>, until done: @escaping @Sendable ([StoreEvent]) -> Bool) async -> [StoreEvent] {
        await withTaskGroup(of: [StoreEvent]?.self) { group in
            group.addTask {
                var seen: [StoreEvent] = []
                for await event in events {
                    seen.append(event)
                    if done(seen) { break }
                }
                return seen
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }

    @Test func readsComeFromMemoryAndFollowOtherWriters() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let other = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        _ = try await other.create(node("n1"))
        let store = KubernetesStore(client: client, cached: [NodeSpec.self])
        let events = await store.watch(NodeSpec.self)
        #expect(try await store.list(NodeSpec.self).map(\.name) == ["n1"])
        let before = server.log.count
        for _ in 0..<20 { _ = try await store.get(NodeSpec.self, name: "n1") }
        #expect(try await store.list(NodeSpec.self, namespace: nil, labels: ["zone": "a"]).count == 1)
        #expect(try await store.list(NodeSpec.self, namespace: nil, labels: ["zone": "b"]).isEmpty, "label selectors apply to the cache")
        #expect(server.log.count == before, "21 reads, no request")

        let created = try await store.create(node("n2", zone: "b"))
        #expect(try await store.get(NodeSpec.self, name: "n2")?.metadata.resourceVersion == created.metadata.resourceVersion,
                "the writer reads its own write at once")

        _ = try await other.create(node("n3"))
        try await other.delete(NodeSpec.self, name: "n1", namespace: nil)
        #expect(try await eventually { try await store.list(NodeSpec.self).map(\.name) == ["n2", "n3"] }, "another writer's changes arrive")

        let seen = await collect(events) { $0.contains(.deleted(ObjectKey(kind: "Node", name: "n1"))) }
        #expect(seen.contains(.added(ObjectKey(kind: "Node", name: "n3"))), "watchers get the informer's events: \(seen)")
    }

    @Test func afterTheHistoryIsGoneItListsAgainAndReportsWhatChanged() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        _ = try await client.create(node("n1"))
        _ = try await client.create(node("n2"))
        let store = KubernetesStore(client: client, cached: [NodeSpec.self])
        let events = await store.watch(NodeSpec.self)
        #expect(try await store.list(NodeSpec.self).count == 2)
        // The informer misses n1 going and n4 coming; its next watch gets 410 Gone and it lists again.
        try await server.unobserved {
            try await client.delete(NodeSpec.self, name: "n1", namespace: nil)
            _ = try await client.create(node("n4"))
        }
        let seen = await collect(events) { seen in
            seen.contains(.deleted(ObjectKey(kind: "Node", name: "n1"))) && seen.contains { $0.key.name == "n4" }
        }
        #expect(seen.contains(.deleted(ObjectKey(kind: "Node", name: "n1"))), "the relist reports the deletion it missed: \(seen)")
        #expect(try await eventually { try await store.list(NodeSpec.self).map(\.name) == ["n2", "n4"] })
        let lists = server.log.all.filter { $0.hasPrefix("GET /api/v1/nodes?") && !$0.contains("watch=") }
        #expect(lists.count == 2, "the first list and the one after 410: \(lists)")
    }

    @Test func aReadBeforeTheFirstListFailsClearly() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let intruder = KubeClient(config: KubeConfig(server: server.url, token: "wrong"), qps: 1000, burst: 1000)
        let store = KubernetesStore(client: intruder, cached: [NodeSpec.self])
        do {
            _ = try await store.list(NodeSpec.self)
            Issue.record("an informer that cannot list must not answer")
        } catch {
            #expect(error.description.contains("401"), "\(error)")
        }
    }
}

/// JSON patches (RFC 6902) through the client: applied in order, and a failed `test` changes nothing.
@Suite struct JSONPatchTests {
    @Test func operationsApplyInOrderAndAFailedTestChangesNothing() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        _ = try await client.create(ClusterNode(metadata: ObjectMeta(name: "n1", labels: ["zone": "a", "a/b": "x"]), spec: NodeSpec()))
        let patch: JSONValue = .array([
            .object(["op": .string("test"), "path": .string("/metadata/labels/zone"), "value": .string("a")]),
            .object(["op": .string("replace"), "path": .string("/metadata/labels/zone"), "value": .string("b")]),
            .object(["op": .string("remove"), "path": .string("/metadata/labels/a~1b")]),
            .object(["op": .string("add"), "path": .string("/metadata/finalizers"), "value": .array([.string("one")])]),
            .object(["op": .string("add"), "path": .string("/metadata/finalizers/-"), "value": .string("two")]),
        ])
        let patched = try await client.patch(NodeSpec.self, name: "n1", namespace: nil, patch, as: .json)
        #expect(patched.metadata.labels == ["zone": "b"] && patched.metadata.finalizers == ["one", "two"])
        let before = try await client.get(NodeSpec.self, name: "n1", namespace: nil)
        let failing: JSONValue = .array([
            .object(["op": .string("replace"), "path": .string("/metadata/labels/zone"), "value": .string("c")]),
            .object(["op": .string("test"), "path": .string("/metadata/labels/zone"), "value": .string("a")]),
        ])
        do {
            _ = try await client.patch(NodeSpec.self, name: "n1", namespace: nil, failing, as: .json)
            Issue.record("a failed test must refuse the patch")
        } catch {
            #expect(error.code == 422, "\(error)")
        }
        #expect(try await client.get(NodeSpec.self, name: "n1", namespace: nil) == before, "nothing changed")
    }
}
