import MultiNICCore

/// Where an object lives: kind, namespace (nil for cluster-scoped kinds) and name.
public struct ObjectKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(kind: String, namespace: String? = nil, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public init<S: ResourceSpec>(_ object: Resource<S>) {
        self.init(kind: S.kind, namespace: object.metadata.namespace, name: object.metadata.name)
    }

    public var description: String { "\(kind) " + (namespace.map { "\($0)/" } ?? "") + name }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        (lhs.kind, lhs.namespace ?? "", lhs.name) < (rhs.kind, rhs.namespace ?? "", rhs.name)
    }
}

/// Why a store operation failed; the Kubernetes store maps API statuses onto the same cases.
public enum StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    case notFound(ObjectKey)
    case alreadyExists(ObjectKey)
    /// The object changed since it was read (HTTP 409): read again and retry.
    case conflict(ObjectKey, expected: String?, actual: String)
    case invalid(ObjectKey, String)
    /// Storage or transport failed.
    case unavailable(String)

    public var description: String {
        switch self {
        case .notFound(let key): "\(key) not found"
        case .alreadyExists(let key): "\(key) already exists"
        case .conflict(let key, let expected, let actual):
            "\(key) was modified (resourceVersion \(expected ?? "none") is stale, now \(actual)); read it again"
        case .invalid(let key, let reason): "\(key) is invalid: \(reason)"
        case .unavailable(let reason): "store unavailable: \(reason)"
        }
    }
}

/// A change seen by a watch.
public enum StoreEvent: Sendable, Hashable {
    case added(ObjectKey)
    case modified(ObjectKey)
    case deleted(ObjectKey)

    public var key: ObjectKey {
        switch self {
        case .added(let key), .modified(let key), .deleted(let key): key
        }
    }
}

/// Kubernetes-shaped storage the reconcilers run on: the embedded store (lab, tests) and the Kubernetes API.
/// Writes carry `metadata.resourceVersion`; an update or status update with a stale one is a conflict. `update`
/// never changes status and `updateStatus` never changes anything else (the status subresource).
public protocol ResourceStore: Sendable {
    func get<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError) -> Resource<S>?
    /// Objects of a kind, optionally in one namespace and carrying all of `labels`.
    func list<S: ResourceSpec>(_ type: S.Type, namespace: String?, labels: [String: String]) async throws(StoreError) -> [Resource<S>]
    func create<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S>
    func update<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S>
    func updateStatus<S: ResourceSpec>(_ object: Resource<S>) async throws(StoreError) -> Resource<S>
    /// Deletes at once, or marks for deletion (`deletionTimestamp`) while finalizers remain. Absent is fine.
    func delete<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(StoreError)
    /// Changes of one kind from now on.
    func watch<S: ResourceSpec>(_ type: S.Type) async -> AsyncStream<StoreEvent>

    // Objects of kinds MultiNIC does not model — a backend's dependents such as SR-IOV resources — as JSON with
    // `apiVersion`, `kind` and `metadata`.

    /// Creates the object or replaces its spec, labels and owners; nothing is written when they are unchanged.
    func applyObject(_ object: JSONValue) async throws(StoreError)
    /// Objects of `apiVersion`/`kind` carrying all of `labels` (and named `name`, in any namespace, when given). A kind
    /// the cluster does not serve has none.
    func listObjects(apiVersion: String, kind: String, labels: [String: String], name: String?) async throws(StoreError) -> [JSONValue]
    /// The object `reference` names; nil when absent.
    func getObject(_ reference: ResourceReference) async throws(StoreError) -> JSONValue?
    /// Deletes the object; absent is fine.
    func deleteObject(_ reference: ResourceReference) async throws(StoreError)
}

extension ResourceStore {
    /// Objects of `apiVersion`/`kind` carrying all of `labels`.
    public func listObjects(apiVersion: String, kind: String, labels: [String: String]) async throws(StoreError) -> [JSONValue] {
        try await listObjects(apiVersion: apiVersion, kind: kind, labels: labels, name: nil)
    }

    public func get<S: ResourceSpec>(_ type: S.Type, name: String) async throws(StoreError) -> Resource<S>? {
        try await get(type, name: name, namespace: nil)
    }

    public func list<S: ResourceSpec>(_ type: S.Type) async throws(StoreError) -> [Resource<S>] {
        try await list(type, namespace: nil, labels: [:])
    }

    /// Creates the object, or updates it (keeping its status) when it exists; nothing is written when the stored
    /// object already has these labels, annotations, owners and spec.
    @discardableResult
    public func apply<S: ResourceSpec>(_ desired: Resource<S>) async throws(StoreError) -> Resource<S> {
        guard var current = try await get(S.self, name: desired.metadata.name, namespace: desired.metadata.namespace) else {
            return try await create(desired)
        }
        if current.spec == desired.spec && current.metadata.labels == desired.metadata.labels
            && current.metadata.annotations == desired.metadata.annotations
            && current.metadata.ownerReferences == desired.metadata.ownerReferences {
            return current
        }
        current.spec = desired.spec
        current.metadata.labels = desired.metadata.labels
        current.metadata.annotations = desired.metadata.annotations
        current.metadata.ownerReferences = desired.metadata.ownerReferences
        return try await update(current)
    }
}
