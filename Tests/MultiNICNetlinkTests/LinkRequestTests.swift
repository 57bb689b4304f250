import Foundation
import MultiNICCore
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// The native attach's netlink requests: their bytes (ipvlan cannot be created on this kernel, so its requests are
/// pinned here byte for byte) and, in namespaces the tests create, what the kernel makes of them.
struct LinkRequestBytesTests {
    /// An independent encoder: little-endian fields, attributes padded to 4 bytes.
    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xff) } }
    static func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var bytes = le16(UInt16(4 + payload.count)) + le16(type) + payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }
    static func nested(_ type: UInt16, _ children: [UInt8]...) -> [UInt8] {
        let payload = children.flatMap { $0 }
        return le16(UInt16(4 + payload.count)) + le16(type | 0x8000) + payload  // NLA_F_NESTED
    }
    static func message(type: UInt16, flags: UInt16, sequence: UInt32, _ body: [UInt8]) -> [UInt8] {
        le32(UInt32(16 + body.count)) + le16(type) + le16(flags) + le32(sequence) + le32(0) + body
    }
    static func text(_ string: String) -> [UInt8] { Array(string.utf8) + [0] }

    static let request: UInt16 = 0x1, ack: UInt16 = 0x4, excl: UInt16 = 0x200, create: UInt16 = 0x400

    @Test func anIPVLANIsCreatedInThePodNamespaceByTheseBytes() throws {
        let link = try NewVirtualLink(name: "net1-0", masterIndex: 7, kind: .ipvlan(.l3, .private), mtu: 9000, group: 0x4000_0007)
        let ifinfo = [UInt8](repeating: 0, count: 16)  // AF_UNSPEC, no index, no flags
        let expected = Self.message(type: 16, flags: Self.request | Self.ack | Self.create | Self.excl, sequence: 42, ifinfo
            + Self.attribute(3, Self.text("net1-0"))
            + Self.attribute(5, Self.le32(7))
            + Self.attribute(4, Self.le32(9000))
            + Self.attribute(28, Self.le32(11))
            + Self.attribute(27, Self.le32(0x4000_0007))
            + Self.nested(18, Self.attribute(1, Self.text("ipvlan")),
                          Self.nested(2, Self.attribute(1, Self.le16(1)), Self.attribute(2, Self.le16(1)))))
        #expect(LinkRequest.create(link, namespaceFD: 11).bytes(sequence: 42) == expected)
    }

    @Test func aMACVLANWithItsMACAndModeBridge() throws {
        let mac: [UInt8] = [0x0a, 0x58, 0xc0, 0xa8, 0x00, 0x41]
        let link = try NewVirtualLink(name: "net1-1", masterIndex: 3, kind: .macvlan(.bridge), macAddress: mac)
        let expected = Self.message(type: 16, flags: Self.request | Self.ack | Self.create | Self.excl, sequence: 1,
                                    [UInt8](repeating: 0, count: 16)
            + Self.attribute(3, Self.text("net1-1"))
            + Self.attribute(5, Self.le32(3))
            + Self.attribute(1, mac)
            + Self.nested(18, Self.attribute(1, Self.text("macvlan")), Self.nested(2, Self.attribute(1, Self.le32(4)))))
        #expect(LinkRequest.create(link, namespaceFD: nil).bytes(sequence: 1) == expected)
    }

    @Test func upAndAnIPv4AddressWithItsBroadcast() throws {
        let up = Self.message(type: 16, flags: Self.request | Self.ack, sequence: 5,
                              [0, 0, 0, 0] + Self.le32(9) + Self.le32(1) + Self.le32(1))
        #expect(LinkRequest.setUp(index: 9).bytes(sequence: 5) == up)
        let address = try #require(IPNetwork("192.168.0.65/18"))
        let expected = Self.message(type: 20, flags: Self.request | Self.ack | Self.create | Self.excl, sequence: 6,
                                    [2, 18, 0, 0] + Self.le32(9)
            + Self.attribute(2, [192, 168, 0, 65]) + Self.attribute(1, [192, 168, 0, 65]) + Self.attribute(4, [192, 168, 63, 255]))
        #expect(LinkRequest.addAddress(index: 9, address).bytes(sequence: 6) == expected)
        let v6 = try #require(IPNetwork("fd00::5/64"))
        #expect(LinkRequest.addAddress(index: 9, v6).bytes(sequence: 7).count == 16 + 8 + 2 * 20, "no broadcast for IPv6")
    }

    @Test func whatTheKernelWouldRefuseIsRefusedFirstNamingTheField() {
        for bad in ["", "a/b", "eth 0", "a:b", "sixteen-bytes-xx", ".", ".."] {
            #expect(throws: NetlinkError.self, "\(bad)") { try NewVirtualLink(name: bad, masterIndex: 2, kind: .macvlan(.bridge)) }
        }
        #expect(throws: NetlinkError.invalid("mtu 67: must be within 68...65535")) {
            try NewVirtualLink(name: "net1", masterIndex: 2, kind: .macvlan(.bridge), mtu: 67)
        }
        #expect(throws: NetlinkError.self) { try NewVirtualLink(name: "net1", masterIndex: 0, kind: .macvlan(.bridge)) }
        #expect(throws: NetlinkError.self, "multicast") {
            try NewVirtualLink(name: "net1", masterIndex: 2, kind: .macvlan(.bridge), macAddress: [1, 0, 0, 0, 0, 1])
        }
        #expect(NewVirtualLink.parse(mac: "0A:58:c0:a8:00:41") == [0x0a, 0x58, 0xc0, 0xa8, 0x00, 0x41])
        #expect(NewVirtualLink.parse(mac: "0a:58:c0:a8:00") == nil && NewVirtualLink.parse(mac: "0a:58:c0:a8:00:zz") == nil)
    }
}

@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"),
       .serialized)
struct LinkRequestKernelTests {
    @Test func aMACVLANIsMadeInThePodNamespaceAddressedAndUp() throws {
        try TestNamespace.withMany(2) { names in
            let (host, pod) = (names[0], names[1])
            try TestNamespace.ip("-n", host, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            try TestNamespace.ip("-n", host, "link", "set", "eth1", "up")
            let hostNetlink = try NetworkNamespace.netlink(path: "/var/run/netns/" + host)
            let master = try #require(try hostNetlink.link(named: "eth1"))
            let mac: [UInt8] = [0x0a, 0x58, 0xc0, 0xa8, 0x05, 0x09]
            let link = try NewVirtualLink(name: "net1-0", masterIndex: master.index, kind: .macvlan(.bridge), mtu: 1400, macAddress: mac)
            try hostNetlink.create(link, inNamespaceAt: "/var/run/netns/" + pod)
            #expect(try hostNetlink.link(named: "net1-0") == nil, "created in the pod's namespace, not the host's")

            let podNetlink = try NetworkNamespace.netlink(path: "/var/run/netns/" + pod)
            let created = try #require(try podNetlink.link(named: "net1-0"))
            #expect(created.kind == "macvlan" && created.kindMode == MACVLANMode.bridge.kernelValue)
            #expect(created.mtu == 1400 && created.macAddress == "0a:58:c0:a8:05:09" && !created.isUp)
            let address = try #require(IPNetwork("192.168.5.9/24"))
            try podNetlink.perform([.addAddress(index: created.index, address), .setUp(index: created.index)])
            let gateway = try #require(IPAddress("192.168.5.1"))
            let route = RouteInfo(table: 254, destination: try #require(IPNetwork("10.9.0.0/16")), gateway: gateway,
                                  outputIndex: created.index, routingProtocol: 3)
            #expect(try podNetlink.apply([.replace(route)]).isEmpty)

            #expect(try podNetlink.link(named: "net1-0")?.isUp == true)
            #expect(try podNetlink.addresses().contains { $0.linkIndex == created.index && $0.address == address })
            let shown = try TestNamespace.ip("-n", pod, "-4", "addr", "show", "dev", "net1-0")
            #expect(shown.contains("inet 192.168.5.9/24 brd 192.168.5.255"), "\(shown)")
            #expect(try TestNamespace.ip("-n", pod, "route", "show", "10.9.0.0/16").contains("via 192.168.5.1 dev net1-0"))

            // Again: the name is taken in the pod's namespace (EEXIST, said with the request).
            #expect(throws: NetlinkError.kernel(errno: 17, request: link.description)) {
                try hostNetlink.create(link, inNamespaceAt: "/var/run/netns/" + pod)
            }
            // A master that is gone: ENODEV.
            let orphan = try NewVirtualLink(name: "net1-1", masterIndex: 9999, kind: .macvlan(.bridge))
            #expect(throws: NetlinkError.kernel(errno: 19, request: orphan.description)) {
                try hostNetlink.create(orphan, inNamespaceAt: "/var/run/netns/" + pod)
            }
            #expect(throws: NetlinkError.self) { try hostNetlink.create(orphan, inNamespaceAt: "/var/run/netns/no-such-namespace") }

            try podNetlink.deleteLink(created)
            #expect(try podNetlink.link(named: "net1-0") == nil)
            #expect(try podNetlink.links().map(\.name) == ["lo"], "nothing left behind")
        }
    }
}
