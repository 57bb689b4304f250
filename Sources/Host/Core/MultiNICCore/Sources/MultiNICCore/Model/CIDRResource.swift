/// The computed layout of one network: per interface network an interface block (`vlanCIDR`), per host on
/// it a pod block (`podCIDR`). Owned by the controller; the name equals the MultiNicNetwork's.
public typealias CIDR = Resource<CIDRSpec>

/// `CIDR.spec`.
public struct CIDRSpec: ResourceSpec {
    public static let kind = "CIDR"
    public static let plural = "cidrs"

    public var config: CIDRConfig
    public var cidr: [CIDREntry]

    public init(config: CIDRConfig, cidr: [CIDREntry]) {
        self.config = config
        self.cidr = cidr
    }
}

/// The inputs of the computation, frozen into the CIDR when it is created.
public struct CIDRConfig: Codable, Sendable, Hashable {
    /// The network's name.
    public var name: String
    /// The main plugin type.
    public var type: String
    /// Global subnet (normalised); empty in host-subnet mode.
    public var subnet: String
    /// Interface networks in interface-index order.
    public var masterNets: [String]
    public var hostBlock: Int
    public var interfaceBlock: Int
    public var excludeCIDRs: [String]?
    public var vlanMode: String?

    public init(name: String, type: String, subnet: String, masterNets: [String], hostBlock: Int,
                interfaceBlock: Int, excludeCIDRs: [String]? = nil, vlanMode: String? = nil) {
        self.name = name
        self.type = type
        self.subnet = subnet
        self.masterNets = masterNets
        self.hostBlock = hostBlock
        self.interfaceBlock = interfaceBlock
        self.excludeCIDRs = excludeCIDRs
        self.vlanMode = vlanMode
    }

    /// `vlanMode` typed: l2 when absent or unknown (a CIDR written by someone else).
    public var mode: VLANMode { vlanMode.flatMap { VLANMode(rawValue: $0.lowercased()) } ?? .l2 }
}

/// One interface network of the CIDR.
public struct CIDREntry: Codable, Sendable, Hashable {
    /// Host interface network, e.g. `10.0.1.0/24`.
    public var netAddress: String
    public var interfaceIndex: Int
    /// This interface's block of the global subnet.
    public var vlanCIDR: String
    /// Hosts in hostIndex order.
    public var hosts: [HostCIDR]

    public init(netAddress: String, interfaceIndex: Int, vlanCIDR: String, hosts: [HostCIDR]) {
        self.netAddress = netAddress
        self.interfaceIndex = interfaceIndex
        self.vlanCIDR = vlanCIDR
        self.hosts = hosts
    }
}

/// One host's pod block on one interface network.
public struct HostCIDR: Codable, Sendable, Hashable {
    public var hostIndex: Int
    public var hostName: String
    public var interfaceName: String
    public var hostIP: String
    public var podCIDR: String
    /// Name of the matching IPPool.
    public var ippool: String?

    public init(hostIndex: Int, hostName: String, interfaceName: String, hostIP: String, podCIDR: String,
                ippool: String? = nil) {
        self.hostIndex = hostIndex
        self.hostName = hostName
        self.interfaceName = interfaceName
        self.hostIP = hostIP
        self.podCIDR = podCIDR
        self.ippool = ippool
    }
}
