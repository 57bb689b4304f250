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

    /// Validates `network`, then renders it (see ``render(_:hosts:clusterNamespaces:previousCIDR:)``).
    public func render(_ network: MultiNicNetwork, hosts: [HostInterface], clusterNamespaces: [String],
                       previousCIDR: CIDRSpec? = nil) throws(RenderError) -> RenderedNetwork {
        let validated: ValidatedNetwork
        do {
            validated = try NetworkValidator.check(network)
        } catch {
            throw .invalidNetwork(error.report.errors)
        }
        return try render(validated, hosts: hosts, clusterNamespaces: clusterNamespaces, previousCIDR: previousCIDR)
    }

    /// Renders a validated network for its namespaces (else the given cluster namespaces).
    public func render(_ network: ValidatedNetwork, hosts: [HostInterface], clusterNamespaces: [String],
                       previousCIDR: CIDRSpec? = nil) throws(RenderError) -> RenderedNetwork {
        var warnings = network.warnings.map(\.description)
        let backend: any MainPlugin
        do {
            backend = try registry.backend(network.plugin.type)
            if let strategy = network.attachPolicy?.strategy { _ = try registry.policy(strategy) }
        } catch {
            throw .plugin(error)
        }
        let input = NetworkRenderInput(network: network.resource, hosts: hosts)
        let rendering: BackendRendering
        do {
            rendering = try backend.render(input)
        } catch {
            throw .backend(error)
        }
        warnings += rendering.warnings.map(\.description)
        var cidr: CIDR?
        var pools: [IPPool] = []
        if network.multiNICIPAM != nil {
            do {
                let (spec, notes) = try CIDRPlan.compute(network: network, hosts: hosts, previous: previousCIDR)
                cidr = CIDR(metadata: ObjectMeta(name: network.name), spec: spec)
                pools = IPPoolDerivation.pools(for: spec, cloud: rendering.cloud)
                warnings += notes
            } catch {
                throw .cidr(error)
            }
        }
        let config = try nadConfig(network, plugin: rendering.plugin, masterNets: input.masterNets,
                                   resourceName: rendering.annotations[NetworkAttachmentDefinitionSpec.resourceNameAnnotation])
        var annotations = rendering.annotations
        // DRA mode: Multus hands the ADD the ID of a NIC the pod claimed (the slices carry the same resource name);
        // a backend's own device-plugin resource (SR-IOV) keeps the annotation.
        if let driver = self.config.daemon.draDriver, annotations[NetworkAttachmentDefinitionSpec.resourceNameAnnotation] == nil {
            annotations[NetworkAttachmentDefinitionSpec.resourceNameAnnotation] = DRANames.multusResourceName(driver: driver)
        }
        let namespaces = network.namespaces.isEmpty ? clusterNamespaces : network.namespaces
        let owner = network.resource
        let attachments = namespaces.map { namespace in
            var metadata = ObjectMeta(name: network.name, namespace: namespace,
                                      labels: [NetworkAttachmentDefinitionSpec.generatedLabel: "true"])
            if !annotations.isEmpty { metadata.annotations = annotations }
            if let uid = owner.metadata.uid {
                metadata.ownerReferences = [OwnerReference(apiVersion: owner.apiVersion, kind: owner.kind,
                                                           name: owner.name, uid: uid, controller: true,
                                                           blockOwnerDeletion: true)]
            }
            return NetworkAttachmentDefinition(metadata: metadata, spec: NetworkAttachmentDefinitionSpec(config: config.json.description))
        }
        return RenderedNetwork(attachments: attachments, dependents: rendering.dependents, cidr: cidr, ippools: pools,
                               warnings: warnings)
    }

    /// The NAD's CNI config (``NADConfig``): `{cniVersion, name, type: multi-nic, ipam, dns, plugin, subnet,
    /// masterNets, multiNICIPAM, daemonIP, daemonPort}`, plus what the CNI binary hands the daemon at ADD:
    /// `attachPolicy` when the network has one, `resourceNames` (the device-plugin resource of SR-IOV VFs) and
    /// `nativeAttach` when the network sets it.
    func nadConfig(_ network: ValidatedNetwork, plugin: [String: JSONValue], masterNets: [String], resourceName: String?)
        throws(RenderError) -> NADConfig
    {
        do {
            return try NADConfig(
                cniVersion: network.cniVersion, name: network.name, type: config.cniType, ipam: network.ipamJSON,
                dns: network.plugin.dns ?? DNSConfig(), plugin: plugin, subnet: network.resource.spec.subnet,
                masterNets: masterNets, multiNICIPAM: network.usesMultiNICIPAM, daemonIP: "",
                daemonPort: network.multiNICIPAM?.daemonPort ?? config.daemon.port, attachPolicy: network.attachPolicy,
                resourceNames: resourceName.map { [$0] } ?? [], nativeAttach: network.resource.spec.nativeAttach)
        } catch {
            throw .invalidNetwork([FieldIssue("spec." + error.path, error.message)])
        }
    }
}
