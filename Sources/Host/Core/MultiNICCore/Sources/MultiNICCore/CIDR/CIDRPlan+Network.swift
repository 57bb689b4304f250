extension CIDRConfig {
    /// The CIDR config of a validated network that uses multi-nic-ipam.
    public init(network: ValidatedNetwork) throws(CIDRError) {
        guard let config = network.multiNICIPAM else {
            throw .invalidNetwork([FieldIssue("spec.ipam.type", "\"\(network.ipam.type)\" does not carve CIDRs; only"
                + " \(IPAMConfig.multiNICType) does")])
        }
        self.init(
            name: network.name, type: network.plugin.type, subnet: network.subnet?.description ?? "",
            masterNets: network.masterNets.map(\.description), hostBlock: config.hostBlock,
            interfaceBlock: config.interfaceBlock,
            excludeCIDRs: config.excludeCIDRs.isEmpty ? nil : config.excludeCIDRs,
            vlanMode: config.vlanMode?.rawValue)
    }

    /// The CIDR config of a network, validating it first.
    public init(network: MultiNicNetwork) throws(CIDRError) {
        try self.init(network: try ValidatedNetwork.checked(network))
    }
}

extension ValidatedNetwork {
    /// ``NetworkValidator/check(_:specKeys:)`` with its failure as a ``CIDRError``.
    static func checked(_ network: MultiNicNetwork) throws(CIDRError) -> ValidatedNetwork {
        do {
            return try NetworkValidator.check(network)
        } catch {
            throw .invalidNetwork(error.report.errors)
        }
    }
}

extension CIDRPlan {
    /// A plan for a network, continuing `previous` when given.
    public init(network: ValidatedNetwork, previous: CIDRSpec? = nil) throws(CIDRError) {
        try self.init(config: CIDRConfig(network: network), previous: previous)
    }

    /// A plan for a network (validated first), continuing `previous` when given.
    public init(network: MultiNicNetwork, previous: CIDRSpec? = nil) throws(CIDRError) {
        try self.init(config: CIDRConfig(network: network), previous: previous)
    }

    /// ``compute(network:hosts:previous:existingNodes:)`` for a network not validated yet.
    public static func compute(network: MultiNicNetwork, hosts: [HostInterface], previous: CIDRSpec? = nil,
                               existingNodes: Set<String>? = nil) throws(CIDRError) -> (spec: CIDRSpec, notes: [String]) {
        try compute(network: try ValidatedNetwork.checked(network), hosts: hosts, previous: previous,
                    existingNodes: existingNodes)
    }

    /// Computes a network's CIDR from HostInterfaces in one call: load `previous`, reconcile, export.
    /// `existingNodes` are nodes that still exist; by default, the hosts given.
    public static func compute(network: ValidatedNetwork, hosts: [HostInterface], previous: CIDRSpec? = nil,
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
