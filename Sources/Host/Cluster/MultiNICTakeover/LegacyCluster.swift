import MultiNICCore

/// What a cluster running the original Multi-NIC CNI (v1.3.x, `multinic.fms.io/v1`) holds: its networks, CIDRs,
/// pools with their live allocations, discovered hosts, generated NADs, and the operator and daemon workloads.
/// Read from the API (``LegacyClusterReader``) or from a file of objects (`kubectl get … -o yaml`).
public struct LegacyCluster: Sendable, Hashable {
    public var networks: [MultiNicNetwork]
    public var cidrs: [CIDR]
    public var pools: [IPPool]
    public var hosts: [HostInterface]
    /// NADs the original generated (label `multi-nic-cni-generated: "true"`) or whose config is `type: multi-nic`.
    public var nads: [NetworkAttachmentDefinition]
    /// Node names, when known: a CIDR host that is no Node any more is gone, not missing its HostInterface.
    public var nodes: Set<String>?
    /// The original's controller Deployment, when found.
    public var controller: LegacyWorkload?
    /// The original's daemon DaemonSet, when found.
    public var daemon: LegacyWorkload?
    /// MultiNIC's daemon port (its Config `multi-nicd`), when MultiNIC's Config is there; the shipped Config's
    /// port otherwise.
    public var multinicDaemonPort: Int = LegacyCluster.shippedDaemonPort
    /// MultiNIC's namespace, where its operator applies the DaemonSet of its Config `multi-nicd` (deploy/ installs
    /// into `multi-nic-cni-operator`, the original's default namespace too).
    public var multinicNamespace: String = LegacyCluster.shippedNamespace

    /// The namespace of deploy/.
    public static let shippedNamespace = "multi-nic-cni-operator"

    /// The port of `deploy/config/config.yaml`.
    public static let shippedDaemonPort = 11000

    public init(networks: [MultiNicNetwork] = [], cidrs: [CIDR] = [], pools: [IPPool] = [], hosts: [HostInterface] = [],
                nads: [NetworkAttachmentDefinition] = [], nodes: Set<String>? = nil, controller: LegacyWorkload? = nil,
                daemon: LegacyWorkload? = nil) {
        self.networks = networks
        self.cidrs = cidrs
        self.pools = pools
        self.hosts = hosts
        self.nads = nads
        self.nodes = nodes
        self.controller = controller
        self.daemon = daemon
    }

    /// Whether a NAD config is the original's (`type: multi-nic` with `daemonPort`, or labelled as generated).
    public static func isOriginal(_ nad: NetworkAttachmentDefinition) -> Bool {
        if nad.metadata.labels?[NetworkAttachmentDefinitionSpec.generatedLabel] == "true" { return true }
        guard let config = (try? JSONValue.parse(nad.spec.config))?.objectValue else { return false }
        return config["type"]?.stringValue == "multi-nic" && config["daemonPort"] != nil
    }
}

/// A Deployment or DaemonSet of the original: where it runs and how many replicas it wants (Deployment) or on which
/// nodes it runs (DaemonSet's desired count), as a rollback restores it.
public struct LegacyWorkload: Codable, Sendable, Hashable {
    public var kind: String
    public var namespace: String
    public var name: String
    /// `spec.replicas` of a Deployment; `status.desiredNumberScheduled` of a DaemonSet.
    public var replicas: Int
    /// The DaemonSet's container port (the original daemon listens on it with hostNetwork).
    public var port: Int?
    /// The OLM ClusterServiceVersion that owns it (`olm.owner` label, `namespace/name`): OLM puts its replicas back.
    public var olmOwner: String?

    public init(kind: String, namespace: String, name: String, replicas: Int, port: Int? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.replicas = replicas
        self.port = port
    }

    /// The original's names.
    public static let controllerName = MultiNICAPI.legacyControllerName
    public static let daemonName = "multi-nicd"

    /// A Deployment or DaemonSet object (JSON) as a workload; `nil` for anything else.
    public static func from(_ object: JSONValue) -> LegacyWorkload? {
        guard let root = object.objectValue, let kind = root["kind"]?.stringValue, kind == "Deployment" || kind == "DaemonSet",
              let metadata = root["metadata"]?.objectValue, let name = metadata["name"]?.stringValue else { return nil }
        // MultiNIC's own daemon is a DaemonSet `multi-nicd` too: owned by MultiNIC's Config and labelled with its name.
        let owners = metadata["ownerReferences"]?.arrayValue ?? []
        if owners.contains(where: { $0.objectValue?["apiVersion"]?.stringValue == MultiNICAPI.version })
            || metadata["labels"]?.objectValue?["app.kubernetes.io/name"]?.stringValue == daemonName { return nil }
        let namespace = metadata["namespace"]?.stringValue ?? "default"
        let spec = root["spec"]?.objectValue
        let replicas: Int
        if kind == "Deployment" {
            replicas = spec?["replicas"]?.intValue ?? 1
        } else {
            replicas = root["status"]?.objectValue?["desiredNumberScheduled"]?.intValue ?? 0
        }
        let containers = spec?["template"]?.objectValue?["spec"]?.objectValue?["containers"]?.arrayValue ?? []
        let port = containers.lazy.compactMap { $0.objectValue?["ports"]?.arrayValue?.first?.objectValue?["containerPort"]?.intValue }.first
        var workload = LegacyWorkload(kind: kind, namespace: namespace, name: name, replicas: replicas, port: port)
        let labels = metadata["labels"]?.objectValue ?? [:]
        if let owner = labels["olm.owner"]?.stringValue {
            workload.olmOwner = (labels["olm.owner.namespace"]?.stringValue ?? namespace) + "/" + owner
        }
        return workload
    }
}
