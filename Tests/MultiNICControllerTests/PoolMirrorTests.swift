import Foundation
import MultiNICController
import MultiNICCore
import MultiNICRender
import MultiNICTestSupport
import Synchronization
import Testing

/// A store whose IPPool writes fail while its gate is shut (an API server that throttles or refuses them).
final class IPPoolGatedStore: ResourceStore {
    let base: EmbeddedStore
    let open = Mutex(false)
    let refused = Mutex(0)

    init() throws { base = try EmbeddedStore() }

    private func check<S: ResourceSpec>(_ type: S.Type) throws(StoreError) {
        guard S.self == IPPoolSpec.self, !open.withLock({ $0 }) else { return }
        refused.withLock { $0 += 1 }
        throw .unavailable("IPPool writes are throttled")
    }

    func get<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError) -> Resource<S>? {
        try await base.get(type, name: name, namespace: namespace)
    }
    func list<S: ResourceSpec>(_ type: S.Type, namespace: String?, labels: [String: String]) async throws(StoreError) -> [Resource<S>] {
        try await base.list(type, namespace: namespace, labels: labels)
    }
    func create<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> {
        try check(S.self)
        return try await base.create(object)
    }
    func update<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> {
        try check(S.self)
        return try await base.update(object)
    }
    func updateStatus<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> { try await base.updateStatus(object) }
    func delete<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError) {
        try await base.delete(type, name: name, namespace: namespace)
    }
    func watch<S: ResourceSpec>(_ type: S.Type) async -> AsyncStream<StoreEvent> { await base.watch(type) }
    func applyObject(_ object: JSONValue) async throws(StoreError) { try await base.applyObject(object) }
    func listObjects(apiVersion: String, kind: String, labels: [String: String], name: String?) async throws(StoreError) -> [JSONValue] {
        try await base.listObjects(apiVersion: apiVersion, kind: kind, labels: labels, name: name)
    }
    func getObject(_ reference: ResourceReference) async throws(StoreError) -> JSONValue? { try await base.getObject(reference) }
    func deleteObject(_ reference: ResourceReference) async throws(StoreError) { try await base.deleteObject(reference) }
}

/// The IPPool objects are a background mirror: a network is served by every node's daemon (pools pushed, routes
/// acknowledged, status Ready) while its IPPools cannot be written, and the mirror catches up once they can.
@Suite struct PoolMirrorTests {
    @Test func daemonsServeTheNetworkBeforeItsIPPoolsAreWritten() async throws {
        let store = try IPPoolGatedStore()
        let harness = try ControllerHarness(store: store)
        _ = try await store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        for index in 0..<3 { try await harness.join("node-\(index)", host: index) }
        _ = try await store.create(try ControllerHarness.network(ControllerHarness.seed))

        var status: MultiNicNetworkStatus?
        for _ in 0..<1500 {
            status = try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status
            let pushed = await harness.fleet.pools
            if status?.routeStatus == .success, pushed.count == 3, pushed.values.allSatisfy({ $0.count == 2 }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(status?.configStatus == .success && status?.routeStatus == .success, "\(String(describing: status))")
        #expect(status?.conditions?.first { $0.type == "Ready" }?.status == .true)
        let pushed = await harness.fleet.pools
        #expect(pushed.keys.sorted() == ["node-0", "node-1", "node-2"] && pushed.values.allSatisfy { $0.count == 2 },
                "every daemon holds its two pools: \(pushed.mapValues(\.count))")
        #expect(pushed.values.flatMap { $0 }.allSatisfy { IPPoolSpec.namespaces(of: $0) == nil }, "the network targets every namespace")
        #expect(try await store.list(IPPoolSpec.self).isEmpty, "no IPPool object could be written yet")
        #expect(store.refused.withLock { $0 } > 0, "the mirror tried")

        // The API accepts the writes again: the mirror completes within its retry delay.
        store.open.withLock { $0 = true }
        var written = 0
        for _ in 0..<1000 where written < 6 {
            written = try await store.list(IPPoolSpec.self).count
            if written < 6 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(written == 6)
        let pools = try await store.list(IPPoolSpec.self)
        #expect(pools.allSatisfy { $0.metadata.ownerReferences?.first?.name == "multi-nic-sample" }, "owned by the network")
    }
}
