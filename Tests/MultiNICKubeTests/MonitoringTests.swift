import Foundation
import MultiNICController
import MultiNICCore
import MultiNICIPAM
import MultiNICNetlink
import MultiNICOperator
import MultiNICTestSupport
import Testing
@testable import MultiNICDaemon

/// deploy/monitoring against the metrics the daemon and the operator really export: promtool checks the rules and
/// runs their unit tests, lints both /metrics texts, and every metric an alert or a dashboard panel names exists.
@Suite(.ownThread) struct MonitoringTests {
    static let promtool = "/usr/bin/promtool"
    static let available = FileManager.default.isExecutableFile(atPath: promtool)
    static var directory: String { DeployManifestTests.root.appendingPathComponent("deploy/monitoring").path }

    /// A daemon's /metrics after it handed out and released addresses and failed a request; an operator's after a
    /// failed and a successful sweep.
    static func exportedTexts() async throws -> (daemon: String, operator: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-monitoring-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let netlink = FakeNetlink(linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")],
                                  addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!)])
        let services = try DaemonServices(
            configuration: DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory, sysfsRoot: directory + "/sys",
                                               rtTablesPath: directory + "/rt_tables", virtualKinds: ["veth"], quarantineSeconds: 0),
            netlink: netlink, registry: BuiltPlugins.registry())
        try await services.setPools([IPPool(metadata: ObjectMeta(name: "net-192.168.0.0-30"), spec: IPPoolSpec(
            podCIDR: "192.168.0.0/30", vlanCIDR: "192.168.0.0/18", netAttachDef: "net", hostName: "worker-1", interfaceName: "eth1"))])
        let leases = try await services.allocate(AddressRequest(network: "net", pod: PodRef(namespace: "default", name: "p", uid: "u"),
                                                                containerID: "c", slots: [.init(master: "eth1", ifName: "net1")]))
        #expect(leases.count == 1)
        _ = try await services.release(network: "net", containerID: "c")
        _ = services.setRoutes(network: "net", subnet: IPNetwork("192.168.0.0/16")!, routes: [])
        services.metrics.observe(path: "/allocate", seconds: 0.001, status: 200)
        services.metrics.observe(path: "/attach", seconds: 0.002, status: 404)
        let text = services.metricsText()
        let metrics = OperatorMetrics()
        metrics.record(leakSweep: .failed("daemon unreachable"), node: "n1")
        metrics.record(leakSweep: .released([IPAllocation(interface: "eth1", ip: "192.168.0.1", block: "18")]), node: "n2")
        let operatorText = metrics.render(leading: true, informers: [InformerHealth(kind: "Node", synced: true, failures: 2, lastFailure: nil)])
        return (text, operatorText)
    }

    /// Metric names of an exposition text (histogram series under their family name).
    static func families(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> String? in
            let name = line.prefix { $0 != "{" && $0 != " " }
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) { return String(name.dropLast(suffix.count)) }
            return name.isEmpty ? nil : String(name)
        })
    }

    /// `multinic_…` names used in an expression text.
    static func referenced(_ text: String) -> Set<String> {
        let pattern = try? NSRegularExpression(pattern: "multinic_[a-z_]+")
        let range = NSRange(text.startIndex..., in: text)
        return Set((pattern?.matches(in: text, range: range) ?? []).compactMap { Range($0.range, in: text).map { String(text[$0]) } }
            .map { name in ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 } })
    }

    @Test func everyMetricTheAlertsAndTheDashboardNameIsExported() async throws {
        let (daemon, operatorText) = try await Self.exportedTexts()
        let exported = Self.families(daemon).union(Self.families(operatorText))
        #expect(exported.contains("multinic_journal_fsync_duration_seconds") && exported.contains("multinic_operator_leak_sweep_failures_total"))
        for file in ["alerts.yaml", "dashboard.json"] {
            let text = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
            let names = Self.referenced(text)
            #expect(names.count >= 5, "\(file): \(names)")
            let missing = names.subtracting(exported)
            #expect(missing.isEmpty, "\(file) names metrics nothing exports: \(missing.sorted())")
        }
        // The request-latency histogram keeps its buckets (the dashboard's quantiles rest on them).
        #expect(daemon.contains(#"multinic_request_duration_seconds_bucket{path="/allocate",le="0.0005"}"#), "\(daemon)")
        #expect(operatorText.contains(#"multinic_operator_informer_failures_total{kind="Node"} 2"#), "\(operatorText)")
    }

    /// `multinic_routes_in_sync` (the route alert's input) turns 0 when a NIC the routes leave through loses its link
    /// after the routes were set, and back to 1 when it returns; the daemon's status says which NIC.
    @Test func routesInSyncFollowsTheLinkOfEveryNICTheRoutesUse() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-carrier-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let links = LiveLinks([LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth"),
                               LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")])
        let services = try DaemonServices(
            configuration: DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory, sysfsRoot: directory + "/sys",
                                               rtTablesPath: directory + "/rt_tables", virtualKinds: ["veth"]),
            netlink: FakeNetlink(addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!)], liveLinks: links),
            registry: BuiltPlugins.registry())
        let route = DesiredRoute(destination: IPNetwork("192.168.1.0/24")!, gateway: IPAddress("10.0.1.12")!, interfaceName: "eth1")
        let set = services.setRoutes(network: "net", subnet: IPNetwork("192.168.0.0/16")!, routes: [route])
        #expect(set.success, "\(set.msg)")
        let inSync = #"multinic_routes_in_sync{network="net"} 1"#, outOfSync = #"multinic_routes_in_sync{network="net"} 0"#
        #expect(services.metricsText().contains(inSync))
        links.change("eth2") { $0.hasCarrier = false }
        #expect(services.metricsText().contains(inSync), "eth2 carries none of the network's routes")
        links.change("eth1") { $0.hasCarrier = false }
        #expect(services.metricsText().contains(outOfSync))
        #expect(services.status().degraded.contains { $0.contains("eth1 has no link") }, "\(services.status().degraded)")
        links.change("eth1") { $0.hasCarrier = true }
        #expect(services.metricsText().contains(inSync))
    }

    @Test(.enabled(if: MonitoringTests.available, "needs promtool (CI installs Debian's prometheus through .ci/install-deps --tests)"))
    func promtoolAcceptsTheRulesAndTheirUnitTestsPass() throws {
        let check = try CapturedRun.run(URL(fileURLWithPath: Self.promtool), ["check", "rules", Self.directory + "/alerts.yaml"])
        #expect(check.status == 0 && check.output.contains("SUCCESS: 6 rules found"), "\(check.output)")
        let tests = try CapturedRun.run(URL(fileURLWithPath: Self.promtool), ["test", "rules", Self.directory + "/alerts-test.yaml"])
        #expect(tests.status == 0 && tests.output.contains("SUCCESS"), "\(tests.output)")
    }

    @Test(.enabled(if: MonitoringTests.available, "needs promtool (CI installs Debian's prometheus through .ci/install-deps --tests)"))
    func promtoolLintsBothMetricsTexts() async throws {
        let (daemon, operatorText) = try await Self.exportedTexts()
        for (name, text) in [("daemon", daemon), ("operator", operatorText)] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-metrics-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            let lint = try CapturedRun.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\(Self.promtool) check metrics < \(file)"])
            #expect(lint.status == 0, "\(name) /metrics: \(lint.output)")
        }
    }
}
