#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore

/// Building and reading rtnetlink messages.
enum NetlinkMessages {
    /// The attributes of a message after its family header, by type (the last one of a type wins).
    static func attributes(_ message: UnsafePointer<nlmsghdr>, headerSize: Int) -> [UInt16: UnsafePointer<nlattr>] {
        guard let start = mnl_nlmsg_get_payload_offset(message, headerSize),
              let tail = mnl_nlmsg_get_payload_tail(message)
        else { return [:] }
        return attributes(from: UnsafeRawPointer(start), to: UnsafeRawPointer(tail))
    }

    /// Attributes between two addresses (also for nested attributes).
    static func attributes(from start: UnsafeRawPointer, to end: UnsafeRawPointer) -> [UInt16: UnsafePointer<nlattr>] {
        var result: [UInt16: UnsafePointer<nlattr>] = [:]
        var attribute = start.assumingMemoryBound(to: nlattr.self)
        while mnl_attr_ok(attribute, Int32(end - UnsafeRawPointer(attribute))) {
            result[mnl_attr_get_type(attribute)] = attribute
            guard let next = mnl_attr_next(attribute) else { break }
            attribute = UnsafePointer(next)
        }
        return result
    }

    /// The nested attributes of `attribute`.
    static func nested(_ attribute: UnsafePointer<nlattr>) -> [UInt16: UnsafePointer<nlattr>] {
        guard let payload = mnl_attr_get_payload(attribute) else { return [:] }
        let start = UnsafeRawPointer(payload)
        return attributes(from: start, to: UnsafeRawPointer(attribute) + Int(attribute.pointee.nla_len))
    }

    static func string(_ attribute: UnsafePointer<nlattr>?) -> String? {
        guard let attribute, let text = mnl_attr_get_str(attribute) else { return nil }
        return String(cString: text)
    }

    static func u32(_ attribute: UnsafePointer<nlattr>?) -> UInt32? {
        attribute.map { mnl_attr_get_u32($0) }
    }

    /// An address attribute: 4 bytes (IPv4) or 16 (IPv6).
    static func address(_ attribute: UnsafePointer<nlattr>?) -> IPAddress? {
        guard let attribute, let payload = mnl_attr_get_payload(attribute) else { return nil }
        let length = Int(mnl_attr_get_payload_len(attribute))
        let bytes = UnsafeRawBufferPointer(start: payload, count: length)
        switch length {
        case 4: return IPAddress(family: .v4, value: bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
        case 16: return IPAddress(family: .v6, value: bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
        default: return nil
        }
    }

    /// Network-order bytes of an address.
    static func bytes(_ address: IPAddress) -> [UInt8] {
        let count = address.family == .v4 ? 4 : 16
        return (0..<count).map { UInt8(truncatingIfNeeded: address.value >> UInt128(8 * (count - 1 - $0))) }
    }

    static func putAddress(_ message: UnsafeMutablePointer<nlmsghdr>, type: UInt16, _ address: IPAddress) {
        let bytes = bytes(address)
        bytes.withUnsafeBytes { mnl_attr_put(message, type, bytes.count, $0.baseAddress) }
    }

    static func family(_ family: IPFamily) -> UInt8 {
        UInt8(family == .v4 ? AF_INET : AF_INET6)
    }

    static func ipFamily(_ family: UInt8) -> IPFamily? {
        switch Int32(family) {
        case AF_INET: .v4
        case AF_INET6: .v6
        default: nil
        }
    }

    // MARK: - Links

    static func parseLink(_ message: UnsafePointer<nlmsghdr>) -> LinkInfo? {
        guard let payload = mnl_nlmsg_get_payload(message) else { return nil }
        let header = payload.assumingMemoryBound(to: ifinfomsg.self).pointee
        let attributes = attributes(message, headerSize: MemoryLayout<ifinfomsg>.size)
        guard let name = string(attributes[UInt16(IFLA_IFNAME)]) else { return nil }
        var kind = ""
        var kindMode: UInt32?
        if let info = attributes[UInt16(IFLA_LINKINFO)] {
            let parts = nested(info)
            kind = string(parts[UInt16(IFLA_INFO_KIND)]) ?? ""
            if let data = parts[UInt16(IFLA_INFO_DATA)] {
                let fields = nested(data)
                switch kind {
                case "macvlan", "macvtap": kindMode = u32(fields[UInt16(IFLA_MACVLAN_MODE)])
                case "ipvlan", "ipvtap": kindMode = fields[UInt16(IFLA_IPVLAN_MODE)].map { UInt32(mnl_attr_get_u16($0)) }
                default: break
                }
            }
        }
        var mac: String?
        if let hardware = attributes[UInt16(IFLA_ADDRESS)], let payload = mnl_attr_get_payload(hardware),
           mnl_attr_get_payload_len(hardware) == 6 {
            mac = NewVirtualLink.format(mac: Array(UnsafeRawBufferPointer(start: payload, count: 6)))
        }
        let flags = Int32(bitPattern: header.ifi_flags)
        return LinkInfo(index: header.ifi_index, name: name, isUp: flags & multinic_iff_up() != 0,
                        hasCarrier: flags & multinic_iff_lower_up() != 0,
                        mtu: Int(u32(attributes[UInt16(IFLA_MTU)]) ?? 0), kind: kind,
                        parentIndex: u32(attributes[UInt16(IFLA_LINK)]).map { Int32(bitPattern: $0) },
                        masterIndex: u32(attributes[UInt16(IFLA_MASTER)]).map { Int32(bitPattern: $0) },
                        macAddress: mac, kindMode: kindMode, group: u32(attributes[UInt16(IFLA_GROUP)]) ?? 0)
    }

    // MARK: - Addresses

    static func parseAddress(_ message: UnsafePointer<nlmsghdr>) -> AddressInfo? {
        guard let payload = mnl_nlmsg_get_payload(message) else { return nil }
        let header = payload.assumingMemoryBound(to: ifaddrmsg.self).pointee
        let attributes = attributes(message, headerSize: MemoryLayout<ifaddrmsg>.size)
        // IFA_LOCAL is the address itself on point-to-point links; IFA_ADDRESS otherwise.
        guard let address = address(attributes[UInt16(IFA_LOCAL)]) ?? address(attributes[UInt16(IFA_ADDRESS)]),
              Int(header.ifa_prefixlen) <= address.family.bitWidth
        else { return nil }
        return AddressInfo(linkIndex: Int32(bitPattern: header.ifa_index),
                           address: IPNetwork(address: address, prefixLength: Int(header.ifa_prefixlen)))
    }

    // MARK: - Routes

    static func parseRoute(_ message: UnsafePointer<nlmsghdr>) -> RouteInfo? {
        guard let payload = mnl_nlmsg_get_payload(message) else { return nil }
        let header = payload.assumingMemoryBound(to: rtmsg.self).pointee
        guard let family = ipFamily(header.rtm_family) else { return nil }
        let attributes = attributes(message, headerSize: MemoryLayout<rtmsg>.size)
        let destination = address(attributes[UInt16(RTA_DST.rawValue)]) ?? IPAddress(family: family, value: 0)
        guard Int(header.rtm_dst_len) <= family.bitWidth else { return nil }
        return RouteInfo(table: u32(attributes[UInt16(RTA_TABLE.rawValue)]) ?? UInt32(header.rtm_table),
                         destination: IPNetwork(address: destination, prefixLength: Int(header.rtm_dst_len)),
                         gateway: address(attributes[UInt16(RTA_GATEWAY.rawValue)]),
                         outputIndex: u32(attributes[UInt16(RTA_OIF.rawValue)]).map { Int32(bitPattern: $0) },
                         routingProtocol: header.rtm_protocol,
                         metric: u32(attributes[UInt16(RTA_PRIORITY.rawValue)]))
    }

    /// `RTM_NEWROUTE` (replace) or `RTM_DELROUTE` for `route`.
    static func buildRoute(_ message: UnsafeMutablePointer<nlmsghdr>, _ route: RouteInfo, delete: Bool) {
        message.pointee.nlmsg_type = UInt16(delete ? RTM_DELROUTE : RTM_NEWROUTE)
        if !delete { message.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_REPLACE) }
        guard let extra = mnl_nlmsg_put_extra_header(message, MemoryLayout<rtmsg>.size) else { return }
        let header = extra.assumingMemoryBound(to: rtmsg.self)
        header.pointee.rtm_family = family(route.destination.family)
        header.pointee.rtm_dst_len = UInt8(route.destination.prefixLength)
        header.pointee.rtm_table = UInt8(route.table < 256 ? route.table : UInt32(RT_TABLE_UNSPEC.rawValue))
        header.pointee.rtm_protocol = route.routingProtocol
        header.pointee.rtm_scope = UInt8(route.gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue)
        header.pointee.rtm_type = UInt8(RTN_UNICAST)
        mnl_attr_put_u32(message, UInt16(RTA_TABLE.rawValue), route.table)
        putAddress(message, type: UInt16(RTA_DST.rawValue), route.destination.networkAddress)
        if let gateway = route.gateway { putAddress(message, type: UInt16(RTA_GATEWAY.rawValue), gateway) }
        if let output = route.outputIndex { mnl_attr_put_u32(message, UInt16(RTA_OIF.rawValue), UInt32(bitPattern: output)) }
        if let metric = route.metric { mnl_attr_put_u32(message, UInt16(RTA_PRIORITY.rawValue), metric) }
    }

    // MARK: - Rules

    static func parseRule(_ message: UnsafePointer<nlmsghdr>) -> RuleInfo? {
        guard let payload = mnl_nlmsg_get_payload(message) else { return nil }
        let header = payload.assumingMemoryBound(to: fib_rule_hdr.self).pointee
        guard let family = ipFamily(header.family) else { return nil }
        let attributes = attributes(message, headerSize: MemoryLayout<fib_rule_hdr>.size)
        let source = address(attributes[UInt16(FRA_SRC)]).map {
            IPNetwork(address: $0, prefixLength: Int(header.src_len))
        }
        return RuleInfo(family: family, source: source,
                        table: u32(attributes[UInt16(FRA_TABLE)]) ?? UInt32(header.table),
                        priority: u32(attributes[UInt16(FRA_PRIORITY)]),
                        routingProtocol: attributes[UInt16(FRA_PROTOCOL)].map { mnl_attr_get_u8($0) } ?? 0)
    }

    static func buildRule(_ message: UnsafeMutablePointer<nlmsghdr>, _ rule: RuleInfo, delete: Bool) {
        message.pointee.nlmsg_type = UInt16(delete ? RTM_DELRULE : RTM_NEWRULE)
        if !delete { message.pointee.nlmsg_flags |= UInt16(NLM_F_CREATE | NLM_F_EXCL) }
        guard let extra = mnl_nlmsg_put_extra_header(message, MemoryLayout<fib_rule_hdr>.size) else { return }
        let header = extra.assumingMemoryBound(to: fib_rule_hdr.self)
        header.pointee.family = family(rule.family)
        header.pointee.action = UInt8(FR_ACT_TO_TBL)
        header.pointee.table = UInt8(rule.table < 256 ? rule.table : UInt32(RT_TABLE_UNSPEC.rawValue))
        mnl_attr_put_u32(message, UInt16(FRA_TABLE), rule.table)
        if let source = rule.source {
            header.pointee.src_len = UInt8(source.prefixLength)
            putAddress(message, type: UInt16(FRA_SRC), source.networkAddress)
        }
        if let priority = rule.priority { mnl_attr_put_u32(message, UInt16(FRA_PRIORITY), priority) }
        mnl_attr_put_u8(message, UInt16(FRA_PROTOCOL), rule.routingProtocol)
    }
}
