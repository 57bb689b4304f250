/// API groups of the MultiNIC resources.
public enum MultiNICAPI {
    /// The group/version we write: the seed's `net.cogadvisor.io/v1`.
    public static let version = "net.cogadvisor.io/v1"
    /// The later upstream group/version, accepted when reading so users can migrate.
    public static let legacyVersion = "multinic.fms.io/v1"
    /// Every group/version a MultiNIC resource may carry.
    public static let acceptedVersions = [version, legacyVersion]
    /// The original project's controller Deployment (any namespace; `make deploy` and OLM both use this name).
    public static let legacyControllerName = "multi-nic-cni-operator-controller-manager"
}

/// Kubernetes object metadata: the fields MultiNIC reads or writes.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String
    public var namespace: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var finalizers: [String]?
    public var ownerReferences: [OwnerReference]?

    /// Creates metadata with a name and optional namespace and labels.
    public init(name: String, namespace: String? = nil, labels: [String: String]? = nil) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
    }

    private enum CodingKeys: String, CodingKey {
        case name, namespace, labels, annotations, uid, resourceVersion, generation, creationTimestamp
        case deletionTimestamp, finalizers, ownerReferences
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(namespace, forKey: .namespace)
        try container.encodeSortedIfPresent(labels, forKey: .labels)
        try container.encodeSortedIfPresent(annotations, forKey: .annotations)
        try container.encodeIfPresent(uid, forKey: .uid)
        try container.encodeIfPresent(resourceVersion, forKey: .resourceVersion)
        try container.encodeIfPresent(generation, forKey: .generation)
        try container.encodeIfPresent(creationTimestamp, forKey: .creationTimestamp)
        try container.encodeIfPresent(deletionTimestamp, forKey: .deletionTimestamp)
        try container.encodeIfPresent(finalizers, forKey: .finalizers)
        try container.encodeIfPresent(ownerReferences, forKey: .ownerReferences)
    }
}

/// A reference from a dependent object to its owner.
public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = nil,
                blockOwnerDeletion: Bool? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// The spec of a kind of resource; it names the kind so ``Resource`` can check documents as it reads them.
public protocol ResourceSpec: Codable, Sendable, Hashable {
    /// The status type; ``EmptyStatus`` for kinds without one.
    associatedtype Status: Codable & Sendable & Hashable = EmptyStatus
    /// `kind` as written in documents.
    static var kind: String { get }
    /// The lower-case plural used in API paths.
    static var plural: String { get }
    /// The group/version written by MultiNIC.
    static var apiVersion: String { get }
    /// Every group/version accepted when reading.
    static var acceptedAPIVersions: [String] { get }
    /// True for namespaced kinds (NetworkAttachmentDefinition); MultiNIC's own kinds are cluster-scoped.
    static var isNamespaced: Bool { get }
}

extension ResourceSpec {
    public static var apiVersion: String { MultiNICAPI.version }
    public static var acceptedAPIVersions: [String] { MultiNICAPI.acceptedVersions }
    public static var isNamespaced: Bool { false }
}

/// The status of kinds that have none (`{}` upstream).
public struct EmptyStatus: Codable, Sendable, Hashable {
    public init() {}
}

/// A Kubernetes object: `apiVersion`, `kind`, `metadata`, `spec` and an optional `status`.
/// Decoding rejects a document of another kind or group/version, naming the field.
public struct Resource<Spec: ResourceSpec>: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Spec.Status?

    /// Creates an object with MultiNIC's group/version.
    public init(metadata: ObjectMeta, spec: Spec, status: Spec.Status? = nil) {
        apiVersion = Spec.apiVersion
        kind = Spec.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// The object's name.
    public var name: String { metadata.name }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, spec, status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // An item of a list of a built-in kind carries no type metadata (kube-apiserver omits it): it inherits the
        // list's, when the decoder was given it.
        let inherited = decoder.userInfo[.listItemTypeMeta] as? ListItemTypeMeta
        if let inherited, !container.contains(.apiVersion) {
            apiVersion = inherited.apiVersion
        } else {
            apiVersion = try container.decode(String.self, forKey: .apiVersion)
        }
        guard Spec.acceptedAPIVersions.contains(apiVersion) else {
            throw DecodingError.dataCorruptedError(
                forKey: .apiVersion, in: container,
                debugDescription: "\(Spec.kind) must have apiVersion "
                    + Spec.acceptedAPIVersions.joined(separator: " or ") + ", not \"\(apiVersion)\"")
        }
        if let inherited, !container.contains(.kind) {
            kind = inherited.kind
        } else {
            kind = try container.decode(String.self, forKey: .kind)
        }
        guard kind == Spec.kind else {
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container, debugDescription: "expected kind \(Spec.kind), not \"\(kind)\"")
        }
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        spec = try container.decode(Spec.self, forKey: .spec)
        status = try container.decodeIfPresent(Spec.Status.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(apiVersion, forKey: .apiVersion)
        try container.encode(kind, forKey: .kind)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(spec, forKey: .spec)
        try container.encodeIfPresent(status, forKey: .status)
    }
}

/// A `kind: List` of objects of one kind, as `kubectl get -o json` prints it.
/// The type metadata a list's items inherit when they carry none: the list's group/version and its kind without
/// `List` (kube-apiserver omits `apiVersion`/`kind` on the items of built-in kinds, kubernetes/kubernetes#3030).
public struct ListItemTypeMeta: Sendable, Hashable {
    public var apiVersion: String
    public var kind: String

    public init(apiVersion: String, kind: String) {
        self.apiVersion = apiVersion
        self.kind = kind
    }

    /// From a list's own `apiVersion` and `kind` (`NodeList` → `Node`); nil when the list names no kind.
    public init?(listAPIVersion: String?, listKind: String?) {
        guard let apiVersion = listAPIVersion, let listKind, listKind.hasSuffix("List"), listKind.count > 4 else { return nil }
        self.init(apiVersion: apiVersion, kind: String(listKind.dropLast(4)))
    }
}

extension CodingUserInfoKey {
    /// A ``ListItemTypeMeta`` for the items of the list being decoded.
    public static let listItemTypeMeta: CodingUserInfoKey = {
        guard let key = CodingUserInfoKey(rawValue: "multinic.listItemTypeMeta") else { preconditionFailure("a valid key") }
        return key
    }()
}

public struct ResourceList<Spec: ResourceSpec>: Codable, Sendable, Hashable {
    public var apiVersion = "v1"
    public var kind = "List"
    public var items: [Resource<Spec>]

    public init(items: [Resource<Spec>]) { self.items = items }
}
