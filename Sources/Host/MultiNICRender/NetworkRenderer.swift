import MultiNICCore
import MultiNICPluginHost

/// Why a network cannot be rendered.
public enum RenderError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidNetwork([FieldIssue])
    case plugin(PluginHostError)
    case backend(PluginError)
    case cidr(CIDRError)

    public var description: String {
        switch self {
        case .invalidNetwork(let issues): issues.map(\.description).joined(separator: "\n")
        case .plugin(let error): error.description
        case .backend(let error): error.description
        case .cidr(let error): error.description
        }
    }
}

/// Everything the operator writes for one network.
public struct RenderedNetwork: Sendable, Hashable {
    /// One NetworkAttachmentDefinition per target namespace.
    public var attachments: [NetworkAttachmentDefinition]
    /// Backend resources (SR-IOV policy and network, …).
    public var dependents: [DependentResource]
    /// The CIDR and its IPPools (multi-nic-ipam networks only).
    public var cidr: CIDR?
    public var ippools: [IPPool]
    /// Non-blocking issues (unknown plugin args, notes from the CIDR engine, …).
    public var warnings: [String]
}

/// Renders a network's desired resources: pure, given the loaded plugins, the hosts and the daemon config.
public struct NetworkRenderer: Sendable {
    public let registry: PluginRegistry
    /// The daemon and CNI names (`cniType`, `daemon.port`).
    public let config: ConfigSpec

    public init(registry: PluginRegistry, config: ConfigSpec = ConfigSpec()) {
        self.registry = registry
        self.config = config
    }

    /// Renders `network` for `namespaces` (its own list, else the given cluster namespaces).
    public func render(_ network: MultiNicNetwork, hosts: [HostInterface], clusterNamespaces: [String],
                       previousCIDR: CIDRSpec? = nil) throws(RenderError) -> RenderedNetwork {
        let report = NetworkValidator.validate(network)
        guard report.isValid else { throw .invalidNetwork(report.errors) }
        var warnings = report.warnings.map(\.description)
        let backend: any MainPlugin
        do {
            backend = try registry.backend(network.spec.plugin.type)
            if let strategy = network.spec.attachPolicy?.strategy { _ = try registry.policy(strategy) }
        } catch {
            throw .plugin(error)
        }
        let input = NetworkRenderInput(network: network, hosts: hosts)
        let rendering: BackendRendering
        do {
            rendering = try backend.render(input)
        } catch {
            throw .backend(error)
        }
        warnings += rendering.warnings.map(\.description)
        var cidr: CIDR?
        var pools: [IPPool] = []
        if case .multiNIC = try? IPAMConfig.parse(network.spec.ipam) {
            do {
                let (spec, notes) = try CIDRPlan.compute(network: network, hosts: hosts, previous: previousCIDR)
                cidr = CIDR(metadata: ObjectMeta(name: network.name), spec: spec)
                pools = IPPoolDerivation.pools(for: spec)
                warnings += notes
            } catch {
                throw .cidr(error)
            }
        }
        let config = try networkConfig(network, plugin: rendering.plugin, masterNets: input.masterNets,
                                       resourceName: rendering.annotations[NetworkAttachmentDefinitionSpec.resourceNameAnnotation])
        let namespaces = network.spec.namespaces.flatMap { $0.isEmpty ? nil : $0 } ?? clusterNamespaces
        let attachments = namespaces.map { namespace in
            var metadata = ObjectMeta(name: network.name, namespace: namespace,
                                      labels: [NetworkAttachmentDefinitionSpec.generatedLabel: "true"])
            if !rendering.annotations.isEmpty { metadata.annotations = rendering.annotations }
            if let uid = network.metadata.uid {
                metadata.ownerReferences = [OwnerReference(apiVersion: network.apiVersion, kind: network.kind,
                                                           name: network.name, uid: uid, controller: true,
                                                           blockOwnerDeletion: true)]
            }
            return NetworkAttachmentDefinition(metadata: metadata, spec: NetworkAttachmentDefinitionSpec(config: config))
        }
        return RenderedNetwork(attachments: attachments, dependents: rendering.dependents, cidr: cidr, ippools: pools,
                               warnings: warnings)
    }

    /// The NAD's CNI config: `{cniVersion, name, type: multi-nic, ipam, dns, plugin, subnet, masterNets,
    /// multiNICIPAM, daemonIP, daemonPort}` as JSON text, plus what the CNI binary hands the daemon at ADD:
    /// `attachPolicy` when the network has one and `resourceNames` (the device-plugin resource of SR-IOV VFs).
    func networkConfig(_ network: MultiNicNetwork, plugin: [String: JSONValue], masterNets: [String], resourceName: String?)
        throws(RenderError) -> String
    {
        let spec = network.spec
        let ipam: JSONValue
        var daemonPort = config.daemon.port
        switch try? IPAMConfig.parse(spec.ipam) {
        case .passthrough(_, let json)?:
            ipam = json
        case .multiNIC(let typed)?:
            ipam = (try? JSONValue.parse(spec.ipam)) ?? .object([:])
            daemonPort = typed.daemonPort ?? daemonPort
        case nil:
            throw .invalidNetwork([FieldIssue("spec.ipam", "is not a valid IPAM config")])
        }
        var object: [String: JSONValue] = [
            "cniVersion": .string(spec.plugin.cniVersion),
            "name": .string(network.name),
            "type": .string(config.cniType),
            "ipam": ipam,
            "dns": (try? JSONValue.reencode(spec.plugin.dns ?? DNSConfig())) ?? .object([:]),
            "plugin": .object(plugin),
            "subnet": .string(spec.subnet),
            "masterNets": .array(masterNets.map(JSONValue.string)),
            "daemonIP": .string(""),
            "daemonPort": .integer(Int64(daemonPort)),
        ]
        object["multiNICIPAM"] = .bool(spec.usesMultiNICIPAM)
        if let policy = spec.attachPolicy {
            var fields: [String: JSONValue] = ["strategy": .string(policy.strategy)]
            if let target = policy.target { fields["target"] = .string(target) }
            object["attachPolicy"] = .object(fields)
        }
        if let resourceName { object["resourceNames"] = .array([.string(resourceName)]) }
        return JSONValue.object(object).description
    }
}
