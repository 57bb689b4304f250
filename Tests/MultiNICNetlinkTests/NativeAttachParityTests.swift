import Foundation
import MultiNICCore
@testable import MultiNICNetlink
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

/// The native macvlan attach against the delegate it replaces: the same attachment configured once by Debian's
/// reference macvlan plugin (the delegate path) and once by the backend's native attach, in twin pod namespaces on
/// one host; the kernel state of both pod interfaces must be the same (kind, mode, MTU, state, IPv4 addresses with
/// prefix and broadcast, every route of the pod, arp_notify), the MAC aside (random on both paths).
@Suite(.ownThread, .enabled(if: CNIRun.available, "needs root, iproute2 and /usr/lib/cni/macvlan (CI runs as root)"), .serialized)
struct NativeAttachParityTests {
    /// What `ip` reports of `net1-0` in `namespace`, with what is random or numbered per namespace removed.
    static func snapshot(_ namespace: String) throws -> [String: String] {
        func json(_ arguments: String...) throws -> [[String: Any]] {
            let text = try TestNamespace.ip(["-n", namespace, "-j"] + arguments)
            return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
        }
        var facts: [String: String] = [:]
        let link = try #require(try json("-d", "link", "show", "dev", "net1-0").first)
        let info = link["linkinfo"] as? [String: Any]
        facts["kind"] = info?["info_kind"] as? String
        facts["mode"] = (info?["info_data"] as? [String: Any])?["mode"] as? String
        facts["mtu"] = (link["mtu"] as? Int).map(String.init)
        facts["flags"] = ((link["flags"] as? [String]) ?? []).sorted().joined(separator: ",")
        let addresses = try json("-4", "addr", "show", "dev", "net1-0").first?["addr_info"] as? [[String: Any]] ?? []
        facts["addresses"] = addresses.map { address in
            ["local", "prefixlen", "broadcast", "scope"].map { "\(address[$0] ?? "-")" }.joined(separator: " ")
        }.sorted().joined(separator: "; ")
        facts["routes"] = try json("route", "show", "table", "main").map { route in
            ["dst", "gateway", "dev", "protocol", "scope", "prefsrc"].map { "\(route[$0] ?? "-")" }.joined(separator: " ")
        }.sorted().joined(separator: "; ")
        facts["arp_notify"] = try TestNamespace.ip("netns", "exec", namespace, "cat", "/proc/sys/net/ipv4/conf/net1-0/arp_notify")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return facts
    }

    @Test(arguments: [("bridge", nil), ("private", 1400)] as [(String, Int?)])
    func theNativeMACVLANIsTheDelegatesTwin(mode: String, mtu: Int?) throws {
        let backend = try BuiltPlugins.registry().backend("macvlan")
        let native = try #require(backend as? any NativeAttaching, "the macvlan backend attaches natively")
        var plugin: [String: JSONValue] = ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string(mode)]
        if let mtu { plugin["mtu"] = .integer(Int64(mtu)) }
        let attachment = NICAttachment(networkName: "net", cniVersion: "1.0.0", plugin: plugin, master: "eth1",
                                       address: try #require(IPNetwork("192.168.0.65/18")),
                                       routes: [IPAMRoute(dst: "10.9.0.0/16", gw: "192.168.0.1"), IPAMRoute(dst: "10.10.0.0/16")])
        try TestNamespace.withMany(3) { names in
            let (host, delegated, attached) = (names[0], names[1], names[2])
            try TestNamespace.ip("-n", host, "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            try TestNamespace.ip("-n", host, "link", "set", "eth1", "up")

            let config = try backend.delegateConfig(for: attachment)
            let environment = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "parity", "CNI_NETNS": "/var/run/netns/" + delegated,
                               "CNI_IFNAME": "net1-0", "CNI_PATH": "/usr/lib/cni"]
            let (code, output) = try CNIRun.run(in: host, executable: "/usr/lib/cni/macvlan", environment: environment,
                                                config: config.description)
            #expect(code == 0, "the delegate: \(output)")

            let hostNetlink = try NetworkNamespace.netlink(path: "/var/run/netns/" + host)
            let links = try NetlinkLinkOperations(host: hostNetlink, podNamespacePath: "/var/run/netns/" + attached)
            let state = try native.attach(attachment, ifName: "net1-0", links: links)
            #expect(state.kind == "macvlan" && state.mode == mode && state.isUp)
            #expect(state.addresses.contains(try #require(IPNetwork("192.168.0.65/18"))) && state.routes.count == 2, "\(state)")

            let twin = try Self.snapshot(delegated)
            #expect(twin["kind"] == "macvlan" && twin["arp_notify"] == "1", "the reference is what this test expects: \(twin)")
            #expect(try Self.snapshot(attached) == twin)

            // CHECK passes on what attach made, and finds tampering; detach leaves the pod empty, and again.
            try native.check(attachment, ifName: "net1-0", links: links)
            try TestNamespace.ip("-n", attached, "route", "del", "10.10.0.0/16")
            #expect(throws: NativeAttachError.mismatch("net1-0 lacks the route 10.10.0.0/16")) {
                try native.check(attachment, ifName: "net1-0", links: links)
            }
            try native.detach(ifName: "net1-0", links: links)
            try native.detach(ifName: "net1-0", links: links)
            #expect(try NetworkNamespace.netlink(path: "/var/run/netns/" + attached).links().map(\.name) == ["lo"])
        }
    }

    @Test func aFailureAfterTheLinkExistsLeavesNoLink() throws {
        let native = try #require(try BuiltPlugins.registry().backend("macvlan") as? any NativeAttaching)
        // The gateway is not on the interface's network: the kernel refuses the route after the link was made.
        let attachment = NICAttachment(networkName: "net", cniVersion: "1.0.0", plugin: ["type": .string("macvlan")], master: "eth1",
                                       address: try #require(IPNetwork("192.168.0.65/18")),
                                       routes: [IPAMRoute(dst: "10.9.0.0/16", gw: "172.31.0.1")])
        try TestNamespace.withMany(2) { names in
            try TestNamespace.ip("-n", names[0], "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            let links = try NetlinkLinkOperations(host: try NetworkNamespace.netlink(path: "/var/run/netns/" + names[0]),
                                                  podNamespacePath: "/var/run/netns/" + names[1])
            #expect(throws: NativeAttachError.self) { try native.attach(attachment, ifName: "net1-0", links: links) }
            #expect(try links.state(ifName: "net1-0") == nil, "rolled back")
            // A master the host does not have, a name Linux cannot have: refused before the kernel is asked.
            var elsewhere = attachment
            elsewhere.master = "eth9"
            elsewhere.ipam = .allocated(try #require(IPNetwork("192.168.0.65/18")), routes: [])
            #expect(throws: NativeAttachError.link(LinkOperationError("invalid link request: master \"eth9\": no such host interface"))) {
                try native.attach(elsewhere, ifName: "net1-0", links: links)
            }
            #expect(throws: NativeAttachError.self) { try native.attach(attachment, ifName: "../net1", links: links) }
            // A delegated IPAM section cannot be done natively: the host keeps the delegate path for it.
            elsewhere.ipam = .delegated(.object(["type": .string("host-local")]))
            #expect(throws: NativeAttachError.unsupported("the network's own IPAM section runs as a delegate")) {
                try native.attach(elsewhere, ifName: "net1-0", links: links)
            }
        }
    }

    /// An attachment's links share a link group of their own, and DEL removes them in one kernel batch; a group that
    /// also holds a link not being deleted is never deleted whole (one by one instead), and a foreign link stays.
    @Test func anAttachmentsLinksGoTogetherAndNothingElseGoesWithThem() throws {
        let request = VirtualLinkRequest(kind: .macvlan(mode: "bridge"))
        try TestNamespace.withMany(2) { names in
            try TestNamespace.ip("-n", names[0], "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            let links = try NetlinkLinkOperations(host: try NetworkNamespace.netlink(path: "/var/run/netns/" + names[0]),
                                                  podNamespacePath: "/var/run/netns/" + names[1])
            let group = NetlinkLinkOperations.group(ofPerNIC: "net1-0")
            #expect(group == NetlinkLinkOperations.group(ofPerNIC: "net1-3") && group != NetlinkLinkOperations.group(ofPerNIC: "net2-0"))
            for ifName in ["net1-0", "net1-1", "net1-2", "net2-0"] { try links.createLink(request, master: "eth1", ifName: ifName) }
            let grouped = try TestNamespace.ip("-n", names[1], "-o", "link", "show", "group", String(group))
            #expect(grouped.split(separator: "\n").count == 3, "net1-0…2 share their group: \(grouped)")
            try links.deleteLinks(ifNames: ["net1-0", "net1-1", "net1-2"])
            #expect(try links.linkKinds().keys.sorted() == ["lo", "net2-0"])

            // A foreign link moved into net3's group: deleting net3-0 and net3-1 must not take it along.
            for ifName in ["net3-0", "net3-1"] { try links.createLink(request, master: "eth1", ifName: ifName) }
            try TestNamespace.ip("-n", names[1], "link", "add", "theirs", "type", "veth", "peer", "name", "theirs-peer")
            try TestNamespace.ip("-n", names[1], "link", "set", "theirs", "group",
                                 String(NetlinkLinkOperations.group(ofPerNIC: "net3-0")))
            try links.deleteLinks(ifNames: ["net3-0", "net3-1"])
            #expect(try links.linkKinds().keys.sorted() == ["lo", "net2-0", "theirs", "theirs-peer"])
        }
    }
}
