import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube

/// The reconcilers' ``ResourceStore`` on a real API server: API errors map onto ``StoreError`` (404 → absent,
/// 409 → conflict or already exists), status goes to the status subresource, and watches resume from the last
/// resourceVersion, relist after 410 Gone and back off on errors. Kinds given as `cached` are read from informers
/// (one list and one watch each, shared by every reader and watcher); the others go to the API on every call.
public struct KubernetesStore: ResourceStore {
    public let client: KubeClient
    let informers: InformerSet
    let log: @Sendable (String) -> Void

    /// The kinds the controller reads over and over: all bounded by the cluster's size (never pods).
    public static let controllerKinds: [any ResourceSpec.Type] = [
        MultiNicNetworkSpec.self, HostInterfaceSpec.self, CIDRSpec.self, IPPoolSpec.self, NetworkAttachmentDefinitionSpec.self,
        NamespaceSpec.self, NodeSpec.self, ConfigSpec.self,
    ]

    /// `log` hears every informer failure (a list or watch that failed, watches a server closes at once).
    public init(client: KubeClient, cached: [any ResourceSpec.Type] = [], log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.log = log
        informers = InformerSet(client: client, kinds: cached, log: log)
    }

    /// The cached kinds' informers: synced or not, failures so far (for readiness and metrics).
    public func informerHealth() async -> [InformerHealth] { await informers.health() }

    /// Starts every cached kind's informer now (a leader lists every kind at once: a kind nothing has read yet, such
    /// as IPPools on a cluster without networks, would otherwise never sync and keep readiness down).
    public func startInformers() async { await informers.startAll() }

    /// The informer of `S` once it has listed, or nil when `S` is not cached.
    func synced<S: ResourceSpec>(_ type: S.Type) async throws(StoreError) -> Informer<S>? {
        guard let informer = informers.informer(S.self) else { return nil }
        do {
            try await informer.ready()
        } catch {
            throw Self.storeError(error, ObjectKey(kind: S.kind, name: ""))
        }
        return informer
    }

    static func storeError(_ error: KubeError, _ key: ObjectKey) -> StoreError {
        switch error {
        case .api(404, _): return .notFound(key)
        case .api(409, let status) where status.reason == "AlreadyExists": return .alreadyExists(key)
        case .api(409, let status): return .conflict(key, expected: nil, actual: status.message ?? "changed")
        case .api(422, _), .api(400, _): return .invalid(key, error.description)
        default: return .unavailable(error.description)
        }
    }

    static func selector(_ labels: [String: String]) -> String {
        labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public func get<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError) -> Resource<S>? {
        if let informer = try await synced(S.self) {
            return await informer.get(ObjectKey(kind: S.kind, namespace: S.isNamespaced ? namespace : nil, name: name))
        }
        do {
            return try await client.get(S.self, name: name, namespace: namespace)
        } catch .api(404, _) {
            return nil
        } catch {
            throw Self.storeError(error, ObjectKey(kind: S.kind, namespace: namespace, name: name))
        }
    }

    public func list<S: ResourceSpec>(_ type: S.Type, namespace: String?, labels: [String: String]) async throws(StoreError) -> [Resource<S>] {
        if let informer = try await synced(S.self) { return await informer.list(namespace: namespace, labels: labels) }
        do {
            return try await client.list(S.self, namespace: namespace, labelSelector: Self.selector(labels)).items
        } catch {
            throw Self.storeError(error, ObjectKey(kind: S.kind, namespace: namespace, name: ""))
        }
    }

    public func create<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> {
        do {
            return try await written(client.create(object))
        } catch {
            throw Self.storeError(error, ObjectKey(object))
        }
    }

    public func update<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> {
        do {
            return try await written(client.replace(object))
        } catch {
            throw Self.storeError(error, ObjectKey(object))
        }
    }

    public func updateStatus<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S> {
        do {
            return try await written(client.replaceStatus(object))
        } catch {
            throw Self.storeError(error, ObjectKey(object))
        }
    }

    /// Deletes; the informer forgets the object at once unless finalizers hold it (then it keeps the marked object).
    public func delete<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError) {
        let key = ObjectKey(kind: S.kind, namespace: S.isNamespaced ? namespace : nil, name: name)
        do {
            if let remaining = try await client.delete(S.self, name: name, namespace: namespace) {
                await informers.informer(S.self)?.wrote(remaining)
            } else {
                await informers.informer(S.self)?.removed(key)
            }
        } catch .api(404, _) {
            await informers.informer(S.self)?.removed(key)
            return
        } catch {
            throw Self.storeError(error, ObjectKey(kind: S.kind, namespace: namespace, name: name))
        }
    }

    /// Folds an accepted write into the kind's informer, so the writer reads its own write.
    private func written<S: ResourceSpec>(_ object: Resource<S>) async -> Resource<S> {
        await informers.informer(S.self)?.wrote(object)
        return object
    }

    /// A cached kind: the informer's events. Otherwise a watch-only informer of its own (list, then watch from the
    /// list's resourceVersion; relist after 410 Gone or an ERROR event, reporting what changed; back off up to 30 s on
    /// transport errors), stopped when the stream ends.
    public func watch<S: ResourceSpec>(_ type: S.Type) async -> AsyncStream<StoreEvent> {
        if let informer = informers.informer(S.self) { return await informer.subscribe() }
        return await Informer<S>(client: client, log: log).subscribe(stopWhenEnded: true)
    }

    // MARK: - Unstructured objects

    static func reference(of object: JSONValue) -> ResourceReference? {
        guard let fields = object.objectValue, let apiVersion = fields["apiVersion"]?.stringValue, let kind = fields["kind"]?.stringValue,
              let metadata = fields["metadata"]?.objectValue, let name = metadata["name"]?.stringValue else { return nil }
        return ResourceReference(apiVersion: apiVersion, kind: kind, namespace: metadata["namespace"]?.stringValue, name: name)
    }

    static func path(_ reference: ResourceReference) -> String {
        KubePaths.collection(apiVersion: reference.apiVersion, plural: KubePaths.plural(ofKind: reference.kind),
                             namespace: reference.namespace) + "/" + KubePaths.escape(reference.name)
    }

    /// The field manager of the operator's server-side applies.
    public static let fieldManager = "multinic-operator"

    /// Server-side apply, forced (the operator owns what it renders): one request creates the object or updates it,
    /// removes fields an earlier render set and this one leaves out (a merge patch would keep them), and writes nothing
    /// when nothing changed.
    public func applyObject(_ object: JSONValue) async throws(StoreError) {
        guard let reference = Self.reference(of: object) else {
            throw .invalid(ObjectKey(kind: "?", name: "?"), "an object needs apiVersion, kind and metadata.name")
        }
        do {
            _ = try await client.call("PATCH", Self.path(reference) + "?fieldManager=\(Self.fieldManager)&force=true",
                                      body: Array(object.description.utf8), contentType: KubeClient.PatchType.apply.rawValue)
        } catch {
            throw Self.storeError(error, ObjectKey(kind: reference.kind, namespace: reference.namespace, name: reference.name))
        }
    }

    public func listObjects(apiVersion: String, kind: String, labels: [String: String], name: String?) async throws(StoreError) -> [JSONValue] {
        let path = KubePaths.collection(apiVersion: apiVersion, plural: KubePaths.plural(ofKind: kind), namespace: nil)
            + "?labelSelector=" + KubePaths.escape(Self.selector(labels))
            + (name.map { "&fieldSelector=" + KubePaths.escape("metadata.name=\($0)") } ?? "")
        do {
            let body = try await client.call("GET", path)
            // Items of built-in kinds come without apiVersion/kind (kube-apiserver omits them): give them the asked ones.
            let items = (try? JSONDecoder().decode(JSONValue.self, from: Data(body)))?.objectValue?["items"]?.arrayValue ?? []
            return items.map { item in
                guard var fields = item.objectValue else { return item }
                if fields["apiVersion"] == nil { fields["apiVersion"] = .string(apiVersion) }
                if fields["kind"] == nil { fields["kind"] = .string(kind) }
                return .object(fields)
            }
        } catch .api(404, _) {
            return []
        } catch {
            throw Self.storeError(error, ObjectKey(kind: kind, name: ""))
        }
    }

    public func getObject(_ reference: ResourceReference) async throws(StoreError) -> JSONValue? {
        do {
            let body = try await client.call("GET", Self.path(reference))
            guard var fields = (try? JSONDecoder().decode(JSONValue.self, from: Data(body)))?.objectValue else { return nil }
            if fields["apiVersion"] == nil { fields["apiVersion"] = .string(reference.apiVersion) }
            if fields["kind"] == nil { fields["kind"] = .string(reference.kind) }
            return .object(fields)
        } catch .api(404, _) {
            return nil
        } catch {
            throw Self.storeError(error, ObjectKey(kind: reference.kind, namespace: reference.namespace, name: reference.name))
        }
    }

    public func deleteObject(_ reference: ResourceReference) async throws(StoreError) {
        do {
            _ = try await client.call("DELETE", Self.path(reference))
        } catch .api(404, _) {
            return
        } catch {
            throw Self.storeError(error, ObjectKey(kind: reference.kind, namespace: reference.namespace, name: reference.name))
        }
    }
}
