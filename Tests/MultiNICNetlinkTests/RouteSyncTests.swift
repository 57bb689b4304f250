import Foundation
import MultiNICCore
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// Route diff and table naming, without root.
@Suite struct RouteDiffTests {
    func route(_ destination: String, via gateway: String, proto: UInt8 = RoutingProtocol.multinic) throws -> RouteInfo {
        RouteInfo(table: 100, destination: try #require(IPNetwork(destination)), gateway: IPAddress(gateway), outputIndex: 3,
                  routingProtocol: proto)
    }

    @Test func diffReplacesWhatDiffersDeletesExtrasAndLeavesOthersAlone() throws {
        let current = [try route("192.168.1.0/26", via: "10.0.1.2"), try route("192.168.2.0/26", via: "10.0.1.9"),
                       try route("192.168.9.0/26", via: "10.0.1.4"), try route("192.168.5.0/26", via: "10.0.1.5", proto: 4)]
        let desired = [try route("192.168.1.0/26", via: "10.0.1.2"), try route("192.168.2.0/26", via: "10.0.1.3"),
                       try route("192.168.3.0/26", via: "10.0.1.4"), try route("192.168.5.0/26", via: "10.0.1.6")]
        let diff = RouteDiff.changes(current: current, desired: desired)
        #expect(diff.unchanged == 1)
        #expect(diff.changes == [.replace(desired[1]), .replace(desired[2]), .delete(current[2])])
        #expect(diff.conflicts == [desired[3]], "the static route is not ours: reported, not replaced")
    }

    @Test func tableIDsAvoidListedAndReservedOnes() {
        let text = "#\n# reserved values\n#\n255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n100 mine\n101\tmulti-nic-a # note\n"
        let names = RouteTableNames(text: text)
        #expect(names.id(of: "multi-nic-a") == 101)
        #expect(names.freeID() == 102)
        #expect(names.assign("multi-nic-a")! == (101, nil))
        #expect(names.assign("multi-nic-b")! == (102, "102\tmulti-nic-b\n"))
    }

    @Test func theTableFileGetsOneLinePerNetwork() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt_tables-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "255\tlocal\n100\tother".write(toFile: path, atomically: true, encoding: .utf8)
        let file = RouteTableFile(path: path)
        #expect(try file.tableID(for: "net-a") == 101)
        #expect(try file.tableID(for: "net-b") == 102)
        #expect(try file.tableID(for: "net-a") == 101)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "255\tlocal\n100\tother\n101\tnet-a\n102\tnet-b\n")
        // A name with a newline or a space would add lines (or a new table per call): refused, file unchanged.
        for hostile in ["x\n7 injected", "a b", "../t", ""] {
            #expect(throws: RouteTableError.self) { try file.tableID(for: hostile) }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "255\tlocal\n100\tother\n101\tnet-a\n102\tnet-b\n")
    }
}

/// Convergence and drift repair in a real namespace.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"),
       .serialized)
struct RouteKeeperTests {
    static func network(routes count: Int) throws -> NetworkRoutes {
        NetworkRoutes(network: "net", table: 100, ruleSources: [try #require(IPNetwork("192.168.0.0/16"))],
                      routes: try (0..<count).map { index in
                          DesiredRoute(destination: try #require(IPNetwork("192.168.\(index).0/26")),
                                       gateway: try #require(IPAddress("10.77.1.\(index % 200 + 10)")), interfaceName: "veth0")
                      })
    }

    @Test func convergesIdempotentlyAndNeverTouchesForeignRoutes() throws {
        try TestNamespace.with { name, path in
            try LinuxNetlinkTests.addVethPair(name)
            try TestNamespace.ip("-n", name, "route", "add", "172.16.0.0/24", "via", "10.77.1.7", "table", "100", "proto", "static")
            let keeper = RouteKeeper(netlink: try NetworkNamespace.netlink(path: path))
            var desired = try Self.network(routes: 20)
            let first = keeper.set(desired)
            #expect(first.added == 20 && first.inSync)
            let again = keeper.set(desired)
            #expect(again.unchanged == 20 && again.added == 0 && again.deleted == 0)
            desired.routes.removeLast(5)
            desired.routes[0].gateway = try #require(IPAddress("10.77.1.99"))
            let changed = keeper.set(desired)
            #expect(changed.replaced == 1 && changed.deleted == 5 && changed.unchanged == 14)
            let table = try TestNamespace.ip("-n", name, "route", "show", "table", "100")
            #expect(table.contains("172.16.0.0/24 via 10.77.1.7") && table.contains("proto static"), "the foreign route stays")
            #expect(table.split(separator: "\n").count == 16)
            #expect(try TestNamespace.ip("-n", name, "rule", "show").contains("from 192.168.0.0/16 lookup 100 proto 167"))
            try keeper.remove(network: "net")
            #expect(try TestNamespace.ip("-n", name, "route", "show", "table", "100").split(separator: "\n").count == 1)
            #expect(try !TestNamespace.ip("-n", name, "rule", "show").contains("lookup 100"))
        }
    }

    @Test func repairsDriftWithinSeconds() async throws {
        try await TestNamespace.with { name, path in
            try LinuxNetlinkTests.addVethPair(name)
            let keeper = RouteKeeper(netlink: try NetworkNamespace.netlink(path: path))
            let events = try RouteEvents(namespacePath: path)
            let seen = EventLog()
            events.start { event in
                seen.append(event)
                if case .table(let table) = event { keeper.noticeChange(inTable: table) }
            }
            defer { events.stop() }
            #expect(keeper.set(try Self.network(routes: 10)).inSync)
            try TestNamespace.ip("-n", name, "route", "del", "192.168.3.0/26", "table", "100")
            try TestNamespace.ip("-n", name, "rule", "del", "from", "192.168.0.0/16", "lookup", "100")
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(5)
            var repaired = false
            while clock.now < deadline && !repaired {
                try await Task.sleep(for: .milliseconds(100))
                let table = try TestNamespace.ip("-n", name, "route", "show", "table", "100")
                let rules = try TestNamespace.ip("-n", name, "rule", "show")
                repaired = table.contains("192.168.3.0/26") && rules.contains("lookup 100")
            }
            #expect(repaired, "route and rule are back within 5 s")
            #expect(keeper.repairCount >= 1)
            // Link and address changes are reported too (discovery refreshes on them).
            try TestNamespace.ip("-n", name, "addr", "add", "10.77.2.5/24", "dev", "veth1")
            try TestNamespace.ip("-n", name, "link", "set", "veth1", "mtu", "1400")
            for _ in 0..<50 where !(seen.events.contains { if case .address = $0 { true } else { false } }
                                    && seen.events.contains(.link("veth1"))) {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(seen.events.contains(.link("veth1")))
            #expect(seen.events.contains { if case .address = $0 { true } else { false } })
            // A macvlan added on veth1 and removed again (what every pod attach does to its master) repeats veth1's
            // RTM_NEWLINK unchanged: no event for veth1, so discovery is not thrown away on every attach.
            let before = seen.events.filter { $0 == .link("veth1") }.count
            try TestNamespace.ip("-n", name, "link", "add", "link", "veth1", "name", "mvq", "type", "macvlan", "mode", "bridge")
            try TestNamespace.ip("-n", name, "link", "del", "mvq")
            for _ in 0..<50 where !seen.events.contains(.link("mvq")) { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(200))
            #expect(seen.events.contains(.link("mvq")))
            #expect(seen.events.filter { $0 == .link("veth1") }.count == before)
            try TestNamespace.ip("-n", name, "link", "set", "veth1", "mtu", "1300")
            for _ in 0..<50 where seen.events.filter({ $0 == .link("veth1") }).count == before {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(seen.events.filter { $0 == .link("veth1") }.count > before, "a real change is still an event")
        }
    }
}

/// Events collected from the event thread.
final class EventLog: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private var stored: [NetlinkEvent] = []
    private let lock = NSLock()

    func append(_ event: NetlinkEvent) {
        lock.lock()
        stored.append(event)
        lock.unlock()
    }

    var events: [NetlinkEvent] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
