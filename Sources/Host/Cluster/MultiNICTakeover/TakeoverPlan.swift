import MultiNICCore

/// What MultiNIC will own after taking over a cluster of the original, network by network, and what stands in the
/// way. Pure: ``TakeoverPlanner/plan(_:)`` computes it from a ``LegacyCluster``; `takeover plan` prints it and
/// `takeover apply` carries it out.
public struct TakeoverPlan: Sendable, Hashable {
    public var networks: [NetworkPlan]
    /// Every conflict found, ``TakeoverConflict`` order (blocking first).
    public var conflicts: [TakeoverConflict]
    public var controller: LegacyWorkload?
    public var daemon: LegacyWorkload?

    public init(networks: [NetworkPlan], conflicts: [TakeoverConflict], controller: LegacyWorkload?, daemon: LegacyWorkload?) {
        self.networks = networks
        self.conflicts = conflicts
        self.controller = controller
        self.daemon = daemon
    }

    /// The conflicts that would lose or duplicate an address.
    public var blocking: [TakeoverConflict] { conflicts.filter(\.blocking) }

    /// Live addresses adopted over all networks.
    public var liveAddresses: Int { networks.reduce(0) { $0 + $1.liveAddresses } }
}

/// One network as MultiNIC will own it.
public struct NetworkPlan: Sendable, Hashable {
    public var name: String
    public var plugin: String
    /// The global subnet ("" in host-subnet mode).
    public var subnet: String
    public var vlanMode: VLANMode?
    /// The original's CIDR, kept as it is: it becomes `--previous` of MultiNIC's first compute.
    public var cidr: CIDRSpec?
    public var pools: [PoolPlan]
    /// Namespaces whose NAD of this name is the original's and gets rewritten.
    public var nadNamespaces: [String]
    /// The host route table adopted as it is (L3 networks).
    public var routeTable: RouteTablePlan?
    /// False when a blocking conflict concerns this network.
    public var adoptable: Bool

    public var liveAddresses: Int { pools.reduce(0) { $0 + $1.allocations.count } }
}

/// One IPPool with the allocations each node's journal adopts.
public struct PoolPlan: Sendable, Hashable {
    public var name: String
    public var hostName: String
    public var interfaceName: String
    public var podCIDR: String
    /// Live allocations, each once, in address order.
    public var allocations: [Allocation]
}

/// A route table the original's daemon programmed: table `name` with rule `from <subnet> lookup <name>` on every
/// host, one route per other host's pod block on each shared interface network.
public struct RouteTablePlan: Sendable, Hashable {
    public var name: String
    public var subnet: String
    /// Routes the table holds on each host, by host name.
    public var routesPerHost: [String: Int]
}
