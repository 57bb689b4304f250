import CMNL
import MultiNICCore

/// ``RouteNetlink`` over a real rtnetlink socket.
public final class LinuxNetlink: RouteNetlink {
    let socket: NetlinkSocket

    /// A socket in the calling thread's network namespace.
    public convenience init() throws(NetlinkError) {
        self.init(socket: try NetlinkSocket())
    }

    init(socket: NetlinkSocket) {
        self.socket = socket
    }

    // ip link show
    public func links() throws(NetlinkError) -> [LinkInfo] {
        var links: [LinkInfo] = []
        try socket.dump({ message in
            message.pointee.nlmsg_type = UInt16(RTM_GETLINK)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifinfomsg>.size)?.assumingMemoryBound(to: ifinfomsg.self)
            header?.pointee.ifi_family = UInt8(AF_UNSPEC)
        }, handle: { message in
            if let link = NetlinkMessages.parseLink(message) { links.append(link) }
        })
        return links
    }

    // ip addr show
    public func addresses() throws(NetlinkError) -> [AddressInfo] {
        var addresses: [AddressInfo] = []
        try socket.dump({ message in
            message.pointee.nlmsg_type = UInt16(RTM_GETADDR)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifaddrmsg>.size)?.assumingMemoryBound(to: ifaddrmsg.self)
            header?.pointee.ifa_family = UInt8(AF_UNSPEC)
        }, handle: { message in
            if let address = NetlinkMessages.parseAddress(message) { addresses.append(address) }
        })
        return addresses
    }

    // ip route show table all
    public func routes(table: UInt32?) throws(NetlinkError) -> [RouteInfo] {
        var routes: [RouteInfo] = []
        try socket.dump({ message in
            message.pointee.nlmsg_type = UInt16(RTM_GETROUTE)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<rtmsg>.size)?.assumingMemoryBound(to: rtmsg.self)
            header?.pointee.rtm_family = UInt8(AF_UNSPEC)
        }, handle: { message in
            if let route = NetlinkMessages.parseRoute(message), table.map({ route.table == $0 }) ?? true {
                routes.append(route)
            }
        })
        return routes
    }

    // ip -batch: route replace / route del
    public func apply(_ changes: [RouteChange]) throws(NetlinkError) -> [(change: RouteChange, error: NetlinkError)] {
        let builders = changes.map { change -> (UnsafeMutablePointer<nlmsghdr>) -> Void in
            switch change {
            case .replace(let route): { NetlinkMessages.buildRoute($0, route, delete: false) }
            case .delete(let route): { NetlinkMessages.buildRoute($0, route, delete: true) }
            }
        }
        let failures = try socket.transact(builders)
        return failures.sorted { $0.key < $1.key }.map { position, code in
            let change = changes[position]
            let request: String
            switch change {
            case .replace(let route): request = "ip route replace \(route)"
            case .delete(let route): request = "ip route del \(route)"
            }
            return (change, NetlinkError.kernel(errno: code, request: request))
        }
    }

    // ip link del <name>
    public func deleteLink(_ link: LinkInfo) throws(NetlinkError) {
        let failures = try socket.transact([{ message in
            message.pointee.nlmsg_type = UInt16(RTM_DELLINK)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifinfomsg>.size)?.assumingMemoryBound(to: ifinfomsg.self)
            header?.pointee.ifi_family = UInt8(AF_UNSPEC)
            header?.pointee.ifi_index = link.index
        }])
        if let code = failures[0] { throw .kernel(errno: code, request: "ip link del \(link.name)") }
    }

    /// `ip link del group <group>`: every link of the group in this namespace, in one kernel batch (one RCU grace
    /// period for all of them, where deleting them one by one waits for one each). Virtual links only: the kernel
    /// refuses the whole batch (EOPNOTSUPP) when the group holds a device it cannot delete.
    public func deleteLinks(group: UInt32) throws(NetlinkError) {
        let failures = try socket.transact([{ message in
            message.pointee.nlmsg_type = UInt16(RTM_DELLINK)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifinfomsg>.size)?.assumingMemoryBound(to: ifinfomsg.self)
            header?.pointee.ifi_family = UInt8(AF_UNSPEC)
            mnl_attr_put_u32(message, UInt16(IFLA_GROUP), group)
        }])
        if let code = failures[0] { throw .kernel(errno: code, request: "ip link del group \(group)") }
    }

    // ip rule show
    public func rules() throws(NetlinkError) -> [RuleInfo] {
        var rules: [RuleInfo] = []
        try socket.dump({ message in
            message.pointee.nlmsg_type = UInt16(RTM_GETRULE)
            let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<fib_rule_hdr>.size)?.assumingMemoryBound(to: fib_rule_hdr.self)
            header?.pointee.family = UInt8(AF_UNSPEC)
        }, handle: { message in
            if let rule = NetlinkMessages.parseRule(message) { rules.append(rule) }
        })
        return rules
    }

    // ip rule add from <source> lookup <table>
    public func addRule(_ rule: RuleInfo) throws(NetlinkError) {
        try ruleRequest(rule, delete: false)
    }

    // ip rule del from <source> lookup <table>
    public func deleteRule(_ rule: RuleInfo) throws(NetlinkError) {
        try ruleRequest(rule, delete: true)
    }

    private func ruleRequest(_ rule: RuleInfo, delete: Bool) throws(NetlinkError) {
        let failures = try socket.transact([{ NetlinkMessages.buildRule($0, rule, delete: delete) }])
        if let code = failures[0] {
            throw .kernel(errno: code, request: "ip rule \(delete ? "del" : "add") from \(rule.source?.description ?? "all") lookup \(rule.table)")
        }
    }
}
