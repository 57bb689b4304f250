/// Why a backend or policy refused; every case names the field or the reason.
public enum PluginError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `plugin.args` (or another input field) has bad values.
    case invalidArguments([FieldIssue])
    /// A fact the plugin needs is missing, e.g. no VF device ID for an SR-IOV attachment.
    case missingInput(String)

    public var description: String {
        switch self {
        case .invalidArguments(let issues): issues.map(\.description).joined(separator: "\n")
        case .missingInput(let reason): reason
        }
    }
}

/// A main-plugin backend: turns a network into the CNI config of its NetworkAttachmentDefinition (operator side)
/// and one selected NIC into the delegate config of one pod interface (node side).
public protocol MainPlugin: Sendable {
    /// The main-plugin part of the NAD, annotations and dependent resources for a network.
    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering
    /// The dependent resources to delete when the network goes away.
    func cleanup(for network: MultiNicNetwork) -> [ResourceReference]
    /// The delegate CNI config for one pod interface on one selected NIC.
    func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue
}

extension MainPlugin {
    public func cleanup(for network: MultiNicNetwork) -> [ResourceReference] { [] }
}

/// What a backend renders from.
public struct NetworkRenderInput: Sendable, Hashable {
    public var network: MultiNicNetwork
    public var hosts: [HostInterface]
    /// `spec.masterNets`, or every network the hosts report when the network lists none.
    public var masterNets: [String]

    public init(network: MultiNicNetwork, hosts: [HostInterface], masterNets: [String]? = nil) {
        self.network = network
        self.hosts = hosts
        self.masterNets = masterNets ?? Self.effectiveMasterNets(network: network, hosts: hosts)
    }

    /// The network's masterNets, or the hosts' networks in first-seen order.
    public static func effectiveMasterNets(network: MultiNicNetwork, hosts: [HostInterface]) -> [String] {
        if let listed = network.spec.masterNets, !listed.isEmpty { return listed }
        var seen: [String] = []
        for host in hosts {
            for interface in host.spec.interfaces where !interface.netAddress.isEmpty {
                if !seen.contains(interface.netAddress) { seen.append(interface.netAddress) }
            }
        }
        return seen
    }

    /// Every (host, interface) whose network is one of the masterNets.
    public var masterInterfaces: [(host: String, interface: InterfaceInfo)] {
        hosts.flatMap { host in
            host.spec.interfaces.filter { masterNets.contains($0.netAddress) }.map { (host.hostSpec.hostName, $0) }
        }
    }
}

/// A backend's contribution to a network's generated resources.
public struct BackendRendering: Sendable, Hashable {
    /// The main plugin's CNI config (the NAD config's `plugin`).
    public var plugin: [String: JSONValue]
    /// Annotations for the NAD (e.g. `k8s.v1.cni.cncf.io/resourceName`).
    public var annotations: [String: String]
    /// Other resources to create (SR-IOV policy and network, …).
    public var dependents: [DependentResource]
    /// Things the user should fix but that do not block (unknown `plugin.args` keys, …).
    public var warnings: [FieldIssue]
    /// Pod addresses must be registered with a cloud's API before they carry traffic (aws-ipvlan): the IPPools say
    /// so and leave out the addresses the cloud reserves.
    public var cloud: CloudAddressing?

    public init(plugin: [String: JSONValue], annotations: [String: String] = [:],
                dependents: [DependentResource] = [], warnings: [FieldIssue] = [], cloud: CloudAddressing? = nil) {
        self.plugin = plugin
        self.annotations = annotations
        self.dependents = dependents
        self.warnings = warnings
        self.cloud = cloud
    }
}

/// A network whose pod addresses live in a cloud's API too: the node daemon assigns each allocated address to the
/// cloud interface behind the NIC (and unassigns it on release), and the pools never hold an address the cloud
/// reserves in each host network (AWS: the first four and the last of a subnet).
public struct CloudAddressing: Sendable, Hashable {
    /// The daemon's provider (``IPPoolSpec/cloudProvider``), e.g. `aws`.
    public var provider: String
    /// Addresses reserved at the start of each host network (its network address included).
    public var reservedAtStart: Int
    /// Addresses reserved at its end (its broadcast address included).
    public var reservedAtEnd: Int

    public init(provider: String, reservedAtStart: Int, reservedAtEnd: Int) {
        self.provider = provider
        self.reservedAtStart = reservedAtStart
        self.reservedAtEnd = reservedAtEnd
    }
}

/// A Kubernetes object identified by group/version, kind, namespace and name.
public struct ResourceReference: Sendable, Hashable, CustomStringConvertible {
    public var apiVersion: String
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(apiVersion: String, kind: String, namespace: String? = nil, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(kind) " + (namespace.map { "\($0)/" } ?? "") + name }
}

/// A resource a backend needs next to the NAD, as a whole Kubernetes object.
public struct DependentResource: Sendable, Hashable {
    public var reference: ResourceReference
    /// The object, including apiVersion, kind and metadata.
    public var object: JSONValue

    /// Builds the object from its reference, labels and spec.
    public init(_ reference: ResourceReference, labels: [String: String], spec: [String: JSONValue]) {
        self.reference = reference
        var metadata: [String: JSONValue] = ["name": .string(reference.name),
                                             "labels": .object(labels.mapValues(JSONValue.string))]
        if let namespace = reference.namespace { metadata["namespace"] = .string(namespace) }
        object = .object(["apiVersion": .string(reference.apiVersion), "kind": .string(reference.kind),
                          "metadata": .object(metadata), "spec": .object(spec)])
    }
}

/// How a pod interface gets its address.
public enum PodIPAM: Sendable, Hashable {
    /// The daemon allocated `address` (with the interface block's prefix, e.g. `192.168.0.65/18`): the delegate gets
    /// static IPAM with it and the extra `routes`.
    case allocated(IPNetwork, routes: [IPAMRoute])
    /// The network's own IPAM section (`multiNICIPAM: false`, e.g. host-local or whereabouts), run by the delegate.
    case delegated(JSONValue)
}

/// One pod interface to configure: the NIC the policy chose and how it gets its address.
public struct NICAttachment: Sendable, Hashable {
    public var networkName: String
    public var cniVersion: String
    /// The rendered main-plugin config from the NAD.
    public var plugin: [String: JSONValue]
    /// Host interface name (the master).
    public var master: String
    /// PCI address of the device given to the pod (SR-IOV VF), when there is one.
    public var deviceID: String?
    public var ipam: PodIPAM

    public init(networkName: String, cniVersion: String, plugin: [String: JSONValue], master: String,
                deviceID: String? = nil, ipam: PodIPAM) {
        self.networkName = networkName
        self.cniVersion = cniVersion
        self.plugin = plugin
        self.master = master
        self.deviceID = deviceID
        self.ipam = ipam
    }

    /// An attachment with an address the daemon allocated.
    public init(networkName: String, cniVersion: String, plugin: [String: JSONValue], master: String,
                deviceID: String? = nil, address: IPNetwork, routes: [IPAMRoute] = []) {
        self.init(networkName: networkName, cniVersion: cniVersion, plugin: plugin, master: master, deviceID: deviceID,
                  ipam: .allocated(address, routes: routes))
    }
}

/// A backend whose delegate moves the selected NIC itself into the pod (host-device) instead of making a link on
/// it. The host then lends each NIC to one pod at a time: a NIC that carries any attachment is not offered to it, a
/// lent NIC is offered to nobody, and the host remembers the NIC (name, addresses, state) to restore it when it
/// comes back.
public protocol WholeDeviceBackend: MainPlugin {}
