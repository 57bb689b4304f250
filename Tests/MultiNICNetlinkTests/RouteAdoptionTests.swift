import MultiNICCore
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// A table the original Multi-NIC CNI's daemon programmed (routes added without a protocol, i.e. `boot`, and a rule
/// `from <subnet> lookup <table>`): MultiNIC takes its routes over in place and keeps its rule; a route that differs
/// from what MultiNIC wants is left alone and reported.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"))
struct RouteAdoptionTests {
    @Test func theOriginalsTableIsAdoptedInPlace() throws {
        try TestNamespace.with { name, path in
            try LinuxNetlinkTests.addVethPair(name)
            // What the original daemon's /addl3 leaves: its table, its routes (proto boot) and its rule.
            for index in 0..<4 {
                try TestNamespace.ip("-n", name, "route", "add", "192.168.\(index).0/26", "via", "10.77.1.\(index + 10)", "dev", "veth0",
                                     "table", "100")
            }
            try TestNamespace.ip("-n", name, "route", "add", "192.168.9.0/26", "via", "10.77.1.99", "dev", "veth0", "table", "100")
            try TestNamespace.ip("-n", name, "rule", "add", "from", "192.168.0.0/16", "table", "100")
            let before = try TestNamespace.ip("-n", name, "route", "show", "table", "100")
            #expect(!before.contains("proto 167"))

            // MultiNIC wants the same four routes, and 192.168.9.0/26 through another gateway.
            var routes = try (0..<4).map { index in
                DesiredRoute(destination: try #require(IPNetwork("192.168.\(index).0/26")), gateway: try #require(IPAddress("10.77.1.\(index + 10)")),
                             interfaceName: "veth0")
            }
            routes.append(DesiredRoute(destination: try #require(IPNetwork("192.168.9.0/26")), gateway: try #require(IPAddress("10.77.1.50")),
                                       interfaceName: "veth0"))
            let keeper = RouteKeeper(netlink: try NetworkNamespace.netlink(path: path))
            let report = keeper.set(NetworkRoutes(network: "net", table: 100, ruleSources: [try #require(IPNetwork("192.168.0.0/16"))],
                                                  routes: routes))
            #expect(report.adopted == 4 && report.added == 0 && report.deleted == 0, "\(report)")
            #expect(report.failures == ["192.168.9.0/26: table 100 holds a route MultiNIC does not own"])

            let after = try TestNamespace.ip("-n", name, "route", "show", "table", "100").split(separator: "\n")
            #expect(after.count == 5)
            for index in 0..<4 {
                #expect(after.contains { $0.hasPrefix("192.168.\(index).0/26 via 10.77.1.\(index + 10)") && $0.contains("proto 167") })
            }
            #expect(after.contains { $0.hasPrefix("192.168.9.0/26 via 10.77.1.99") && !$0.contains("proto 167") }, "the differing one stays")
            // The original's rule serves: no second rule for the table.
            let rules = try TestNamespace.ip("-n", name, "rule", "show").split(separator: "\n").filter { $0.contains("lookup 100") }
            #expect(rules.count == 1)

            // From now on the table is MultiNIC's: a second pass changes nothing.
            let again = keeper.set(NetworkRoutes(network: "net", table: 100, ruleSources: [try #require(IPNetwork("192.168.0.0/16"))],
                                                 routes: Array(routes.prefix(4))))
            #expect(again.unchanged == 4 && again.adopted == 0 && again.inSync)
        }
    }
}
