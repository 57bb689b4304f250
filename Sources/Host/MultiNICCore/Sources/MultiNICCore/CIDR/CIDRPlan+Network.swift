extension CIDRConfig {
    /// The CIDR config of a network. The network must be valid and use multi-nic-ipam.
    public init(network: MultiNicNetwork) throws(CIDRError) {
        let report = NetworkValidator.validate(network)
        guard report.isValid else { throw .invalidNetwork(report.errors) }
        let ipam: IPAMConfig
        do {
            ipam = try IPAMConfig.parse(network.spec.ipam)
        } catch {
            throw .invalidNetwork([error])
        }
        guard case .multiNIC(let config) = ipam else {
            throw .invalidNetwork([FieldIssue("spec.ipam.type", "\"\(ipam.type)\" does not carve CIDRs; only"
                + " \(IPAMConfig.multiNICType) does")])
        }
        let subnet = IPNetwork(network.spec.subnet)?.normalized.description ?? ""
        self.init(
            name: network.metadata.name, type: network.spec.plugin.type, subnet: subnet,
            masterNets: network.spec.masterNets ?? [], hostBlock: config.hostBlock,
            interfaceBlock: config.interfaceBlock,
            excludeCIDRs: config.excludeCIDRs.isEmpty ? nil : config.excludeCIDRs,
            vlanMode: config.vlanMode?.rawValue)
    }
}

extension CIDRPlan {
    /// A plan for a network, continuing `previous` when given.
    public init(network: MultiNicNetwork, previous: CIDRSpec? = nil) throws(CIDRError) {
        try self.init(config: CIDRConfig(network: network), previous: previous)
    }

    /// Computes a network's CIDR from HostInterfaces in one call: load `previous`, reconcile, export.
    /// `existingNodes` are nodes that still exist; by default, the hosts given.
    public static func compute(network: MultiNicNetwork, hosts: [HostInterface], previous: CIDRSpec? = nil,
                               existingNodes: Set<String>? = nil) throws(CIDRError) -> (spec: CIDRSpec, notes: [String]) {
        var plan = try CIDRPlan(network: network, previous: previous)
        let specs = hosts.map(\.hostSpec)
        plan.reconcile(hosts: specs, existingNodes: existingNodes ?? Set(specs.map(\.hostName)))
        return (plan.spec, plan.notes)
    }
}

extension Resource where Spec == HostInterfaceSpec {
    /// The spec with `hostName` defaulted to the object name.
    public var hostSpec: HostInterfaceSpec {
        var spec = self.spec
        if spec.hostName.isEmpty { spec.hostName = metadata.name }
        return spec
    }
}
