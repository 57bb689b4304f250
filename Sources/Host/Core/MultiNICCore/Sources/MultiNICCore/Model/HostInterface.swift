/// The secondary NICs of one host, as discovered by its daemon (or written by a user when labelled
/// ``HostInterfaceSpec/unmanagedLabel``). The object name is the node name.
public typealias HostInterface = Resource<HostInterfaceSpec>

/// `HostInterface.spec`.
public struct HostInterfaceSpec: ResourceSpec {
    public static let kind = "HostInterface"
    public static let plural = "hostinterfaces"

    /// Label marking a user-written HostInterface whose interfaces the daemon appends to its discovery.
    public static let unmanagedLabel = "multi-nic-unmanaged"

    public var hostName: String
    public var interfaces: [InterfaceInfo]

    public init(hostName: String, interfaces: [InterfaceInfo]) {
        self.hostName = hostName
        self.interfaces = interfaces
    }
}

/// One host NIC.
public struct InterfaceInfo: Codable, Sendable, Hashable {
    /// Host link name, e.g. `eth1`.
    public var interfaceName: String
    /// Network of the NIC's address, e.g. `10.0.1.0/24` or `fd00:1::/64`; empty for an address-less NIC.
    public var netAddress: String
    /// The NIC's address in that network.
    public var hostIP: String
    /// PCI vendor ID as hex without `0x`, e.g. `15b3`.
    public var vendor: String
    /// PCI device ID, e.g. `1019`.
    public var product: String
    /// PCI address, e.g. `0000:00:04.0`.
    public var pciAddress: String
    /// NUMA node of the device (its own sysfs `numa_node`); `nil` when unknown.
    public var numaNode: Int?
    /// Link speed in Mbit/s; `nil` when unknown.
    public var speedMbps: Int?
    public var mtu: Int?
    /// Number of SR-IOV virtual functions configured (`sriov_numvfs`); `nil` when the device has no SR-IOV.
    public var sriovVFs: Int?
    /// The NIC's IPv6 network and address when it also has IPv4 (`netAddress`/`hostIP` hold the IPv4 ones).
    public var netAddressV6: String?
    public var hostIPv6: String?
    /// The host bridge the device hangs under (`pci0000:17`) and the topmost bridge below it (`0000:17:00.0`); see
    /// ``PCILocation``. `nil` when unknown (a virtual NIC).
    public var pcieRoot: String?
    public var pcieRootPort: String?
    /// The NIC is lent whole to a pod (a host-device attachment) and is not on the host now: reported so that its
    /// CIDR block stays, never selected until it returns. `nil` when the NIC is on the host.
    public var inUse: Bool?

    public init(interfaceName: String, netAddress: String = "", hostIP: String = "", vendor: String = "",
                product: String = "", pciAddress: String = "", numaNode: Int? = nil, speedMbps: Int? = nil,
                mtu: Int? = nil, sriovVFs: Int? = nil, netAddressV6: String? = nil, hostIPv6: String? = nil,
                pcieRoot: String? = nil, pcieRootPort: String? = nil) {
        self.pcieRoot = pcieRoot
        self.pcieRootPort = pcieRootPort
        self.interfaceName = interfaceName
        self.netAddress = netAddress
        self.hostIP = hostIP
        self.vendor = vendor
        self.product = product
        self.pciAddress = pciAddress
        self.numaNode = numaNode
        self.speedMbps = speedMbps
        self.mtu = mtu
        self.sriovVFs = sriovVFs
        self.netAddressV6 = netAddressV6
        self.hostIPv6 = hostIPv6
    }

    private enum CodingKeys: String, CodingKey {
        case interfaceName, netAddress, hostIP, vendor, product, pciAddress, numaNode, speedMbps, mtu, sriovVFs
        case netAddressV6, hostIPv6, pcieRoot, pcieRootPort, inUse
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        interfaceName = try container.decode(String.self, forKey: .interfaceName)
        netAddress = try container.decodeIfPresent(String.self, forKey: .netAddress) ?? ""
        hostIP = try container.decodeIfPresent(String.self, forKey: .hostIP) ?? ""
        vendor = try container.decodeIfPresent(String.self, forKey: .vendor) ?? ""
        product = try container.decodeIfPresent(String.self, forKey: .product) ?? ""
        pciAddress = try container.decodeIfPresent(String.self, forKey: .pciAddress) ?? ""
        numaNode = try container.decodeIfPresent(Int.self, forKey: .numaNode)
        speedMbps = try container.decodeIfPresent(Int.self, forKey: .speedMbps)
        mtu = try container.decodeIfPresent(Int.self, forKey: .mtu)
        sriovVFs = try container.decodeIfPresent(Int.self, forKey: .sriovVFs)
        netAddressV6 = try container.decodeIfPresent(String.self, forKey: .netAddressV6)
        hostIPv6 = try container.decodeIfPresent(String.self, forKey: .hostIPv6)
        pcieRoot = try container.decodeIfPresent(String.self, forKey: .pcieRoot)
        pcieRootPort = try container.decodeIfPresent(String.self, forKey: .pcieRootPort)
        inUse = try container.decodeIfPresent(Bool.self, forKey: .inUse)
    }

    /// Two records describe the same attachment point when name, network and address match
    /// (vendor, product and PCI changes do not move CIDRs).
    public func sameAttachment(as other: InterfaceInfo) -> Bool {
        interfaceName == other.interfaceName && netAddress == other.netAddress && hostIP == other.hostIP
    }
}
