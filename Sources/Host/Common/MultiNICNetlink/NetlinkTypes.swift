import MultiNICCore

/// Why a netlink call failed.
public enum NetlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    case socket(String)
    case send(errno: Int32)
    case receive(errno: Int32)
    /// The kernel answered a request with an error.
    case kernel(errno: Int32, request: String)
    case namespace(String)
    /// A request the kernel would refuse, refused before it is sent (names the field).
    case invalid(String)

    public var description: String {
        switch self {
        case .socket(let reason): "netlink socket: \(reason)"
        case .send(let code): "netlink send: \(NetlinkError.text(code))"
        case .receive(let code): "netlink receive: \(NetlinkError.text(code))"
        case .kernel(let code, let request): "\(request): \(NetlinkError.text(code))"
        case .namespace(let reason): "network namespace: \(reason)"
        case .invalid(let reason): "invalid link request: \(reason)"
        }
    }

    static func text(_ code: Int32) -> String {
        switch code {
        case 1: "operation not permitted (EPERM)"
        case 2: "no such entry (ENOENT)"
        case 3: "no such process (ESRCH)"
        case 17: "already exists (EEXIST)"
        case 19: "no such device (ENODEV)"
        case 22: "invalid argument (EINVAL)"
        case 101: "network unreachable (ENETUNREACH)"
        case 105: "no buffer space (ENOBUFS)"
        default: "errno \(code)"
        }
    }
}

/// A network link (`ip link`).
public struct LinkInfo: Sendable, Hashable {
    public var index: Int32
    public var name: String
    public var isUp: Bool
    public var hasCarrier: Bool
    public var mtu: Int
    /// `veth`, `macvlan`, `bridge`, … (empty for physical devices).
    public var kind: String
    /// Index of the link this one sits on (macvlan parent, veth peer when in the same namespace).
    public var parentIndex: Int32?
    /// Index of the bridge/bond it is enslaved to.
    public var masterIndex: Int32?
    /// The link-layer address, `aa:bb:cc:dd:ee:ff` (nil for links without one, e.g. loopback's is all zeros but set).
    public var macAddress: String?
    /// The kind's mode as the kernel reports it (`IFLA_MACVLAN_MODE`, `IFLA_IPVLAN_MODE`), when the kind has one.
    public var kindMode: UInt32?
    /// The link group (`IFLA_GROUP`; 0 is the default group).
    public var group: UInt32

    public init(index: Int32, name: String, isUp: Bool, hasCarrier: Bool, mtu: Int, kind: String,
                parentIndex: Int32? = nil, masterIndex: Int32? = nil, macAddress: String? = nil, kindMode: UInt32? = nil,
                group: UInt32 = 0) {
        self.index = index
        self.name = name
        self.isUp = isUp
        self.hasCarrier = hasCarrier
        self.mtu = mtu
        self.kind = kind
        self.parentIndex = parentIndex
        self.masterIndex = masterIndex
        self.macAddress = macAddress
        self.kindMode = kindMode
        self.group = group
    }
}

/// An address on a link (`ip addr`).
public struct AddressInfo: Sendable, Hashable {
    public var linkIndex: Int32
    /// The address with its prefix, e.g. `10.0.1.5/24`.
    public var address: IPNetwork

    public init(linkIndex: Int32, address: IPNetwork) {
        self.linkIndex = linkIndex
        self.address = address
    }
}

/// A route (`ip route`).
public struct RouteInfo: Sendable, Hashable, CustomStringConvertible {
    public var table: UInt32
    public var destination: IPNetwork
    public var gateway: IPAddress?
    public var outputIndex: Int32?
    /// Who installed it (RTPROT_*); MultiNIC's routes carry ``RoutingProtocol/multinic``.
    public var routingProtocol: UInt8
    /// The route's metric (`RTA_PRIORITY`); `nil` for the kernel's default.
    public var metric: UInt32?

    public init(table: UInt32, destination: IPNetwork, gateway: IPAddress?, outputIndex: Int32?,
                routingProtocol: UInt8 = RoutingProtocol.multinic, metric: UInt32? = nil) {
        self.table = table
        self.destination = destination
        self.gateway = gateway
        self.outputIndex = outputIndex
        self.routingProtocol = routingProtocol
        self.metric = metric
    }

    /// The main routing table.
    public static let mainTable: UInt32 = 254

    public var description: String {
        "\(destination)" + (gateway.map { " via \($0)" } ?? "") + (outputIndex.map { " dev#\($0)" } ?? "")
            + (metric.map { " metric \($0)" } ?? "") + " table \(table)"
    }
}

/// A policy routing rule (`ip rule`).
public struct RuleInfo: Sendable, Hashable {
    public var family: IPFamily
    public var source: IPNetwork?
    public var table: UInt32
    public var priority: UInt32?
    public var routingProtocol: UInt8

    public init(family: IPFamily, source: IPNetwork?, table: UInt32, priority: UInt32? = nil,
                routingProtocol: UInt8 = RoutingProtocol.multinic) {
        self.family = family
        self.source = source
        self.table = table
        self.priority = priority
        self.routingProtocol = routingProtocol
    }
}

/// One change of a route batch.
public enum RouteChange: Sendable, Hashable {
    /// Add or replace (`ip route replace`).
    case replace(RouteInfo)
    /// Delete (`ip route del`).
    case delete(RouteInfo)
}

/// Routing protocol numbers.
public enum RoutingProtocol {
    /// The protocol number MultiNIC stamps on its routes and rules, so it never touches anyone else's.
    public static let multinic: UInt8 = 167
}

/// The netlink operations the daemon needs, behind a protocol so route and discovery logic can be tested
/// without root.
public protocol RouteNetlink: Sendable {
    /// `ip link show`
    func links() throws(NetlinkError) -> [LinkInfo]
    /// `ip addr show`
    func addresses() throws(NetlinkError) -> [AddressInfo]
    /// `ip route show table all` (both families), optionally one table.
    func routes(table: UInt32?) throws(NetlinkError) -> [RouteInfo]
    /// Applies the changes in one batch; returns the failures (request, error) — the rest were applied.
    func apply(_ changes: [RouteChange]) throws(NetlinkError) -> [(change: RouteChange, error: NetlinkError)]
    /// `ip rule show` (both families).
    func rules() throws(NetlinkError) -> [RuleInfo]
    /// `ip rule add from <source> lookup <table> priority <p> proto multinic`
    func addRule(_ rule: RuleInfo) throws(NetlinkError)
    /// `ip rule del …`
    func deleteRule(_ rule: RuleInfo) throws(NetlinkError)
}
