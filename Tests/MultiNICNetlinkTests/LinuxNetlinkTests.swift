import Foundation
import MultiNICCore
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// The real netlink implementation, inside namespaces these tests create and delete.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"),
       .serialized)
struct LinuxNetlinkTests {
    /// veth0 (10.77.1.5/24, fd00:77::5/64) ↔ veth1 (10.77.1.7/24), both up, in namespace `name`.
    static func addVethPair(_ name: String) throws {
        try TestNamespace.ip("-n", name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
        try TestNamespace.ip("-n", name, "addr", "add", "10.77.1.5/24", "dev", "veth0")
        try TestNamespace.ip("-n", name, "addr", "add", "fd00:77::5/64", "dev", "veth0", "nodad")
        try TestNamespace.ip("-n", name, "addr", "add", "10.77.1.7/24", "dev", "veth1")
        try TestNamespace.ip("-n", name, "link", "set", "veth0", "up")
        try TestNamespace.ip("-n", name, "link", "set", "veth1", "up")
    }

    @Test func listsLinksAndAddressesOfTheNamespace() throws {
        try TestNamespace.with { name, path in
            try Self.addVethPair(name)
            let netlink = try NetworkNamespace.netlink(path: path)
            let links = try netlink.links()
            let veth0 = try #require(links.first { $0.name == "veth0" })
            #expect(veth0.kind == "veth")
            #expect(veth0.isUp)
            #expect(veth0.mtu == 1500)
            #expect(Set(links.map(\.name)) == ["lo", "veth0", "veth1"], "the host's links are not visible")
            let addresses = try netlink.addresses().filter { $0.linkIndex == veth0.index }.map(\.address.description)
            #expect(addresses.contains("10.77.1.5/24"))
            #expect(addresses.contains("fd00:77::5/64"))
        }
    }

    @Test func appliesReplacesAndDeletesRoutesInATable() throws {
        try TestNamespace.with { name, path in
            try Self.addVethPair(name)
            let netlink = try NetworkNamespace.netlink(path: path)
            let veth0 = try #require(try netlink.links().first { $0.name == "veth0" }).index
            let gateway = try #require(IPAddress("10.77.1.7"))
            let routes = try (0..<200).map { index in
                RouteInfo(table: 100, destination: try #require(IPNetwork("192.168.\(index).0/26")), gateway: gateway,
                          outputIndex: veth0)
            }
            #expect(try netlink.apply(routes.map(RouteChange.replace)).isEmpty)
            let shown = try TestNamespace.ip("-n", name, "route", "show", "table", "100")
            #expect(shown.split(separator: "\n").count == 200)
            #expect(shown.contains("192.168.7.0/26 via 10.77.1.7 dev veth0 proto 167"))
            // Replacing is idempotent, and moving a route to another gateway replaces it in place.
            var moved = routes[7]
            moved.gateway = IPAddress("10.77.1.9")
            #expect(try netlink.apply([.replace(routes[3]), .replace(moved)]).isEmpty)
            #expect(try TestNamespace.ip("-n", name, "route", "show", "table", "100", "192.168.7.0/26")
                .contains("via 10.77.1.9"))
            var current = Array(routes.prefix(150))
            current[7] = moved
            #expect(try netlink.apply(current.map(RouteChange.delete)).isEmpty)
            let remaining = try netlink.routes(table: 100)
            #expect(remaining.count == 50)
            #expect(remaining.allSatisfy { $0.routingProtocol == RoutingProtocol.multinic && $0.gateway == gateway })
        }
    }

    @Test func aFailingChangeIsReportedAndTheOthersApply() throws {
        try TestNamespace.with { name, path in
            try Self.addVethPair(name)
            let netlink = try NetworkNamespace.netlink(path: path)
            let veth0 = try #require(try netlink.links().first { $0.name == "veth0" }).index
            let good = RouteInfo(table: 101, destination: try #require(IPNetwork("192.168.1.0/24")),
                                 gateway: IPAddress("10.77.1.7"), outputIndex: veth0)
            let unreachable = RouteInfo(table: 101, destination: try #require(IPNetwork("192.168.2.0/24")),
                                        gateway: IPAddress("172.31.0.1"), outputIndex: veth0)
            let missing = RouteInfo(table: 101, destination: try #require(IPNetwork("192.168.3.0/24")),
                                    gateway: IPAddress("10.77.1.7"), outputIndex: veth0)
            let failures = try netlink.apply([.replace(unreachable), .replace(good), .delete(missing)])
            #expect(failures.map(\.change) == [.replace(unreachable), .delete(missing)])
            #expect(try netlink.routes(table: 101).map(\.destination) == [good.destination])
        }
    }

    @Test func addsAndDeletesPolicyRules() throws {
        try TestNamespace.with { name, path in
            let netlink = try NetworkNamespace.netlink(path: path)
            let rule = RuleInfo(family: .v4, source: IPNetwork("192.168.0.0/16"), table: 100, priority: 3000,
                                routingProtocol: RoutingProtocol.multinic)
            try netlink.addRule(rule)
            #expect(try TestNamespace.ip("-n", name, "rule", "show").contains("3000:\tfrom 192.168.0.0/16 lookup 100 proto 167"))
            #expect(try netlink.rules().contains(rule))
            #expect(throws: NetlinkError.self) { try netlink.addRule(rule) }
            try netlink.deleteRule(rule)
            #expect(try !netlink.rules().contains(rule))
        }
    }
}
