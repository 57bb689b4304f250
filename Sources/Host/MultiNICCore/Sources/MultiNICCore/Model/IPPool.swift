/// The addresses one host may hand out on one interface of one network. One per CIDR host entry;
/// `allocations` mirror the node's journal.
public typealias IPPool = Resource<IPPoolSpec>

/// `IPPool.spec`.
public struct IPPoolSpec: ResourceSpec {
    public static let kind = "IPPool"
    public static let plural = "ippools"

    /// Label selecting a host's pools.
    public static let hostLabel = "hostname"
    /// Label selecting a network's pools.
    public static let networkLabel = "netname"

    /// The block this host/interface allocates from.
    public var podCIDR: String
    /// The interface block; its prefix length is the pod address's mask.
    public var vlanCIDR: String
    /// Network name.
    public var netAttachDef: String
    public var hostName: String
    public var interfaceName: String
    /// Excluded blocks strictly inside `podCIDR`.
    public var excludes: [String]
    public var allocations: [Allocation]

    public init(podCIDR: String, vlanCIDR: String, netAttachDef: String, hostName: String, interfaceName: String,
                excludes: [String] = [], allocations: [Allocation] = []) {
        self.podCIDR = podCIDR
        self.vlanCIDR = vlanCIDR
        self.netAttachDef = netAttachDef
        self.hostName = hostName
        self.interfaceName = interfaceName
        self.excludes = excludes
        self.allocations = allocations
    }
}

/// One handed-out address. Keyed by (network, containerID, ifName); pod fields are kept for GC and display.
public struct Allocation: Codable, Sendable, Hashable {
    public var pod: String
    public var namespace: String
    /// Offset from the podCIDR's network address.
    public var index: Int
    public var address: String
    public var containerID: String?
    public var ifName: String?
    public var podUID: String?

    public init(pod: String, namespace: String, index: Int, address: String, containerID: String? = nil,
                ifName: String? = nil, podUID: String? = nil) {
        self.pod = pod
        self.namespace = namespace
        self.index = index
        self.address = address
        self.containerID = containerID
        self.ifName = ifName
        self.podUID = podUID
    }
}
