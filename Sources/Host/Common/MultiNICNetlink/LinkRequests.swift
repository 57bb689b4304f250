#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore

/// macvlan's `mode` (`ip link add … type macvlan mode <mode>`), with the kernel's values.
public enum MACVLANMode: String, Sendable, Hashable, CaseIterable {
    case `private`, vepa, bridge, passthru, source

    /// `MACVLAN_MODE_*`.
    public var kernelValue: UInt32 {
        switch self {
        case .private: 1
        case .vepa: 2
        case .bridge: 4
        case .passthru: 8
        case .source: 16
        }
    }

    public init?(kernelValue: UInt32) {
        guard let mode = Self.allCases.first(where: { $0.kernelValue == kernelValue }) else { return nil }
        self = mode
    }
}

/// ipvlan's `mode` (`IPVLAN_MODE_*`).
public enum IPVLANMode: String, Sendable, Hashable, CaseIterable {
    case l2, l3, l3s

    public var kernelValue: UInt16 {
        switch self {
        case .l2: 0
        case .l3: 1
        case .l3s: 2
        }
    }
}

/// ipvlan's flag (`IPVLAN_F_*`): bridge (none), private, vepa.
public enum IPVLANFlag: String, Sendable, Hashable, CaseIterable {
    case bridge, `private`, vepa

    public var kernelValue: UInt16 {
        switch self {
        case .bridge: 0
        case .private: 1
        case .vepa: 2
        }
    }
}

/// A virtual link on a master NIC, created directly inside a pod's namespace (`ip link add <name> link <master>
/// netns <pod> type macvlan|ipvlan …`). The master is found in the namespace of the socket that creates it.
public struct NewVirtualLink: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case macvlan(MACVLANMode)
        case ipvlan(IPVLANMode, IPVLANFlag)
    }

    public let name: String
    public let masterIndex: Int32
    public let kind: Kind
    public let mtu: Int?
    /// Six bytes, or nil for one the kernel picks.
    public let macAddress: [UInt8]?
    /// The link group (`ip link set group`), nil for the default 0: a native attach puts one attachment's links in a
    /// group of their own so DEL removes them in one kernel batch.
    public let group: UInt32?

    /// Refuses what the kernel would (a name Linux cannot have, an MTU out of range, a MAC that is not six bytes) with
    /// the field in the message.
    public init(name: String, masterIndex: Int32, kind: Kind, mtu: Int? = nil, macAddress: [UInt8]? = nil,
                group: UInt32? = nil) throws(NetlinkError) {
        guard LinuxInterfaceName.isValid(name) else {
            throw .invalid("interface name \"\(name)\": 1 to 15 bytes, no '/', ':' or whitespace, not '.' or '..'")
        }
        guard masterIndex > 0 else { throw .invalid("master index \(masterIndex): must be positive") }
        if let mtu, !(68...65535).contains(mtu) { throw .invalid("mtu \(mtu): must be within 68...65535") }
        if let macAddress, macAddress.count != 6 || macAddress[0] & 1 == 1 {
            throw .invalid("mac \(Self.format(mac: macAddress)): must be six bytes, not multicast")
        }
        self.name = name
        self.masterIndex = masterIndex
        self.kind = kind
        self.mtu = mtu
        self.macAddress = macAddress
        self.group = group
    }

    /// `aa:bb:cc:dd:ee:ff` → six bytes; nil when it is not that.
    public static func parse(mac text: String) -> [UInt8]? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        let bytes = parts.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
        return bytes.count == 6 ? bytes : nil
    }

    public static func format(mac bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: ":")
    }

    public var description: String {
        var text = "ip link add \(name) link #\(masterIndex)"
        switch kind {
        case .macvlan(let mode): text += " type macvlan mode \(mode.rawValue)"
        case .ipvlan(let mode, let flag): text += " type ipvlan mode \(mode.rawValue) \(flag.rawValue)"
        }
        if let mtu { text += " mtu \(mtu)" }
        if let macAddress { text += " address \(Self.format(mac: macAddress))" }
        if let group { text += " group \(group)" }
        return text
    }
}

/// One link change of a native attach, as the netlink request it sends.
public enum LinkRequest: Sendable, Hashable, CustomStringConvertible {
    /// Create `link`, inside the namespace open at descriptor `namespaceFD` (nil: the socket's own namespace).
    case create(NewVirtualLink, namespaceFD: Int32?)
    /// `ip link set <index> up`.
    case setUp(index: Int32)
    /// `ip addr add <address> dev <index>` (IPv4 with its broadcast address below /31, as `ip addr add … brd +`).
    case addAddress(index: Int32, IPNetwork)
    /// `ip route add <destination> [via <gateway>] dev <index> proto boot` in the main table, scope global (what a
    /// delegate's static IPAM adds).
    case addRoute(index: Int32, destination: IPNetwork, gateway: IPAddress?)
    /// `sysctl net.ipv4.conf.<link>.arp_notify=1` through netlink: a gratuitous ARP when the link comes up.
    case enableARPNotify(index: Int32)
    /// `ip link set <index> down`.
    case setDown(index: Int32)
    /// `ip link set <index> name <name>` (the link must be down).
    case rename(index: Int32, name: String)
    /// `ip link set <index> mtu <mtu>`.
    case setMTU(index: Int32, mtu: UInt32)

    public var description: String {
        switch self {
        case .create(let link, _): link.description
        case .setUp(let index): "ip link set #\(index) up"
        case .addAddress(let index, let address): "ip addr add \(address) dev #\(index)"
        case .addRoute(let index, let destination, let gateway):
            "ip route add \(destination)" + (gateway.map { " via \($0)" } ?? "") + " dev #\(index)"
        case .enableARPNotify(let index): "sysctl net.ipv4.conf.#\(index).arp_notify=1"
        case .setDown(let index): "ip link set #\(index) down"
        case .rename(let index, let name): "ip link set #\(index) name \(name)"
        case .setMTU(let index, let mtu): "ip link set #\(index) mtu \(mtu)"
        }
    }

    /// Fills `message` (a header from `mnl_nlmsg_put_header`, flags `NLM_F_REQUEST | NLM_F_ACK` already set).
    func build(_ message: UnsafeMutablePointer<nlmsghdr>) {
        switch self {
        case .create(let link, let namespaceFD): Self.buildCreate(message, link, namespaceFD: namespaceFD)
        case .setUp(let index):
            let header = Self.putLinkHeader(message, index: index)
            header?.pointee.ifi_flags = UInt32(multinic_iff_up())
            header?.pointee.ifi_change = UInt32(multinic_iff_up())
        case .setDown(let index):
            let header = Self.putLinkHeader(message, index: index)
            header?.pointee.ifi_flags = 0
            header?.pointee.ifi_change = UInt32(multinic_iff_up())
        case .rename(let index, let name):
            Self.putLinkHeader(message, index: index)
            mnl_attr_put_strz(message, UInt16(IFLA_IFNAME), name)
        case .setMTU(let index, let mtu):
            Self.putLinkHeader(message, index: index)
            mnl_attr_put_u32(message, UInt16(IFLA_MTU), mtu)
        case .addAddress(let index, let network): Self.buildAddress(message, index: index, network)
        case .addRoute(let index, let destination, let gateway):
            Self.buildRoute(message, index: index, destination: destination, gateway: gateway)
        case .enableARPNotify(let index):
            Self.putLinkHeader(message, index: index)
            let spec = mnl_attr_nest_start(message, UInt16(IFLA_AF_SPEC))
            let inet = mnl_attr_nest_start(message, UInt16(AF_INET))
            let configuration = mnl_attr_nest_start(message, UInt16(IFLA_INET_CONF))
            mnl_attr_put_u32(message, UInt16(IPV4_DEVCONF_ARP_NOTIFY), 1)
            mnl_attr_nest_end(message, configuration)
            mnl_attr_nest_end(message, inet)
            mnl_attr_nest_end(message, spec)
        }
    }

    /// `RTM_NEWLINK` with an `ifinfomsg` for link `index` (0: a new link).
    @discardableResult
    private static func putLinkHeader(_ message: UnsafeMutablePointer<nlmsghdr>, index: Int32) -> UnsafeMutablePointer<ifinfomsg>? {
        message.pointee.nlmsg_type = UInt16(RTM_NEWLINK)
        let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifinfomsg>.size)?.assumingMemoryBound(to: ifinfomsg.self)
        header?.pointee.ifi_family = UInt8(AF_UNSPEC)
        header?.pointee.ifi_index = index
        return header
    }

    private static func buildCreate(_ message: UnsafeMutablePointer<nlmsghdr>, _ link: NewVirtualLink, namespaceFD: Int32?) {
        putLinkHeader(message, index: 0)
        message.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
        mnl_attr_put_strz(message, UInt16(IFLA_IFNAME), link.name)
        mnl_attr_put_u32(message, UInt16(IFLA_LINK), UInt32(bitPattern: link.masterIndex))
        if let mtu = link.mtu { mnl_attr_put_u32(message, UInt16(IFLA_MTU), UInt32(mtu)) }
        if let mac = link.macAddress { mac.withUnsafeBytes { mnl_attr_put(message, UInt16(IFLA_ADDRESS), 6, $0.baseAddress) } }
        if let namespaceFD { mnl_attr_put_u32(message, UInt16(IFLA_NET_NS_FD), UInt32(bitPattern: namespaceFD)) }
        if let group = link.group { mnl_attr_put_u32(message, UInt16(IFLA_GROUP), group) }
        let info = mnl_attr_nest_start(message, UInt16(IFLA_LINKINFO))
        switch link.kind {
        case .macvlan(let mode):
            mnl_attr_put_strz(message, UInt16(IFLA_INFO_KIND), "macvlan")
            let data = mnl_attr_nest_start(message, UInt16(IFLA_INFO_DATA))
            mnl_attr_put_u32(message, UInt16(IFLA_MACVLAN_MODE), mode.kernelValue)
            mnl_attr_nest_end(message, data)
        case .ipvlan(let mode, let flag):
            mnl_attr_put_strz(message, UInt16(IFLA_INFO_KIND), "ipvlan")
            let data = mnl_attr_nest_start(message, UInt16(IFLA_INFO_DATA))
            mnl_attr_put_u16(message, UInt16(IFLA_IPVLAN_MODE), mode.kernelValue)
            mnl_attr_put_u16(message, UInt16(IFLA_IPVLAN_FLAGS), flag.kernelValue)
            mnl_attr_nest_end(message, data)
        }
        mnl_attr_nest_end(message, info)
    }

    private static func buildAddress(_ message: UnsafeMutablePointer<nlmsghdr>, index: Int32, _ network: IPNetwork) {
        message.pointee.nlmsg_type = UInt16(RTM_NEWADDR)
        message.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
        let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifaddrmsg>.size)?.assumingMemoryBound(to: ifaddrmsg.self)
        header?.pointee.ifa_family = NetlinkMessages.family(network.family)
        header?.pointee.ifa_prefixlen = UInt8(network.prefixLength)
        header?.pointee.ifa_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header?.pointee.ifa_index = UInt32(bitPattern: index)
        NetlinkMessages.putAddress(message, type: UInt16(IFA_LOCAL), network.address)
        NetlinkMessages.putAddress(message, type: UInt16(IFA_ADDRESS), network.address)
        if network.family == .v4 && network.prefixLength < 31 {
            NetlinkMessages.putAddress(message, type: UInt16(IFA_BROADCAST), network.lastAddress)
        }
    }

    private static func buildRoute(_ message: UnsafeMutablePointer<nlmsghdr>, index: Int32, destination: IPNetwork, gateway: IPAddress?) {
        message.pointee.nlmsg_type = UInt16(RTM_NEWROUTE)
        message.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL)
        let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<rtmsg>.size)?.assumingMemoryBound(to: rtmsg.self)
        header?.pointee.rtm_family = NetlinkMessages.family(destination.family)
        header?.pointee.rtm_dst_len = UInt8(destination.prefixLength)
        header?.pointee.rtm_table = UInt8(RT_TABLE_MAIN.rawValue)
        header?.pointee.rtm_protocol = UInt8(RTPROT_BOOT)
        header?.pointee.rtm_scope = UInt8(RT_SCOPE_UNIVERSE.rawValue)
        header?.pointee.rtm_type = UInt8(RTN_UNICAST)
        NetlinkMessages.putAddress(message, type: UInt16(RTA_DST.rawValue), destination.networkAddress)
        if let gateway { NetlinkMessages.putAddress(message, type: UInt16(RTA_GATEWAY.rawValue), gateway) }
        mnl_attr_put_u32(message, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: index))
    }

    /// The request's bytes as sent (sequence number `sequence`), for tests that pin the wire format.
    public func bytes(sequence: UInt32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 512)
        let length = buffer.withUnsafeMutableBytes { raw -> Int in
            guard let base = raw.baseAddress, let header = mnl_nlmsg_put_header(base) else { return 0 }
            header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
            header.pointee.nlmsg_seq = sequence
            build(header)
            return Int(header.pointee.nlmsg_len)
        }
        return Array(buffer.prefix(length))
    }
}
