import Foundation
import MultiNICCore
import MultiNICRender
import MultiNICTestSupport
import Testing

/// The seams crossed in one go: a MultiNicNetwork is validated, rendered into its NAD by the real plugins, and the
/// NAD's config is what the real `multi-nic` binary gets from Multus, against a real multi-nicd and Debian's macvlan.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct SeamEndToEndTests {
    /// The cluster's network (`net`: NIC k → 192.168.64·k.0/18) as a user would write it.
    static func network(cniVersion: String = "1.0.0", routes: String? = nil, dns: DNSConfig? = nil) -> MultiNicNetwork {
        TestNetwork.make(routes: routes, multiNICIPAM: true, cniVersion: cniVersion, args: ["mode": "bridge"], dns: dns,
                         masterNets: ["10.0.1.0/24", "10.0.2.0/24"], namespaces: ["default"])
    }

    /// The NAD config text the operator would write for `network`.
    static func nadConfig(_ network: MultiNicNetwork) throws -> String {
        let rendered = try NetworkRenderer(registry: BuiltPlugins.registry()).render(
            network, hosts: [], clusterNamespaces: ["default"])
        return try #require(rendered.attachments.first).spec.config
    }

    @Test func aCNIVersionTheNodeCannotRunIsRefusedAtValidationAndEveryOtherOneAttaches() throws {
        for unsupported in ["0.1.0", "0.2.0", "2.0.0"] {
            do {
                _ = try NetworkValidator.check(Self.network(cniVersion: unsupported))
                Issue.record("\(unsupported) validated")
            } catch {
                #expect(error.report.errors.map(\.path) == ["spec.plugin.cniVersion"], "\(error)")
            }
        }
        try CNICluster.with(hosts: 1) { cluster in
            for version in CNIVersion.supported where CNIVersionTable.debianSupports(version) {
                let config = try Self.nadConfig(Self.network(cniVersion: version))
                let (code, result) = try cluster.run("ADD", host: 0, config: config, container: "v" + version.filter(\.isNumber))
                #expect(code == 0, "\(version) validated, so the node runs it: \(result)")
                let deleted = try cluster.run("DEL", host: 0, config: config, container: "v" + version.filter(\.isNumber))
                #expect(deleted.0 == 0, "\(deleted.1)")
            }
            #expect(cluster.inUse(host: 0) == 0)
        }
    }

    @Test func theNetworksStaticRoutesReachThePodOnEveryNICWithAMetricEach() throws {
        let routes = #"[{"dst":"10.99.0.0/16"},{"dst":"10.98.0.0/16","gw":"192.168.0.1"}]"#
        let config = try Self.nadConfig(Self.network(routes: routes, dns: DNSConfig(nameservers: ["10.96.0.10"], search: ["svc"])))
        try CNICluster.with(hosts: 1) { cluster in
            let (code, result) = try cluster.run("ADD", host: 0, config: config)
            try #require(code == 0, "ADD: \(result)")
            let table = try TestNamespace.ip("-n", cluster.pods[0], "route", "show")
            #expect(table.contains("10.99.0.0/16 dev net1-0") && table.contains("10.99.0.0/16 dev net1-1"),
                    "one destination on both NICs: \(table)")
            let lines = table.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("10.99.0.0/16 dev net1-0") && $0.contains("metric 100") }, "\(table)")
            #expect(lines.contains { $0.hasPrefix("10.99.0.0/16 dev net1-1") && $0.contains("metric 101") }, "\(table)")
            #expect(lines.contains { $0.hasPrefix("10.98.0.0/16 via 192.168.0.1 dev net1-0") }, "gateway route on NIC 0: \(table)")
            #expect(!lines.contains { $0.hasPrefix("10.98.0.0/16") && $0.contains("net1-1") }, "the gateway is not on NIC 1's block")
            let parsed = try #require(try JSONValue.parse(result).objectValue)
            let destinations = parsed["routes"]?.arrayValue?.compactMap { $0.objectValue?["dst"]?.stringValue } ?? []
            #expect(destinations.sorted() == ["10.98.0.0/16", "10.99.0.0/16", "10.99.0.0/16"], "the result lists them: \(result)")
            #expect(parsed["dns"]?.objectValue?["nameservers"] == .array([.string("10.96.0.10")]), "the network's DNS: \(result)")
            #expect(try cluster.run("DEL", host: 0, config: config).0 == 0)
            #expect(!(try TestNamespace.ip("-n", cluster.pods[0], "route", "show")).contains("10.99.0.0"))
            #expect(cluster.inUse(host: 0) == 0)
        }
    }

    /// `spec.nativeAttach` crosses every seam: validated, rendered into the NAD (only when set), read by `multi-nic`
    /// and honoured by the daemon. Unset: the daemon makes the links (in their attachment's link group, no record in
    /// the CNI state directory). `false`: Debian's macvlan makes them (default group, the delegate configs recorded).
    @Test(arguments: [nil, false] as [Bool?])
    func theNetworksNativeAttachChoosesWhoConfiguresTheNICs(native: Bool?) throws {
        var network = Self.network()
        network.spec.nativeAttach = native
        _ = try NetworkValidator.check(network)
        let config = try Self.nadConfig(network)
        let rendered = try #require(try JSONValue.parse(config).objectValue)
        #expect(rendered["nativeAttach"] == native.map(JSONValue.bool), "\(config)")
        try CNICluster.with(hosts: 1) { cluster in
            let (code, result) = try cluster.run("ADD", host: 0, config: config)
            try #require(code == 0, "ADD: \(result)")
            let links = try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")
            let ours = links.split(separator: "\n").filter { $0.contains(": net1-") }
            #expect(ours.count == 2, "\(links)")
            #expect(ours.allSatisfy { $0.contains("group default") } == (native == false), "\(links)")
            let records = (try? FileManager.default.contentsOfDirectory(atPath: cluster.hosts[0].stateDirectory + "/attachments")) ?? []
            #expect(records.count == (native == false ? 1 : 0), "\(records)")
            let (deleted, output) = try cluster.run("DEL", host: 0, config: config)
            #expect(deleted == 0, "\(output)")
            #expect(!(try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")).contains("net1-"))
            #expect(cluster.inUse(host: 0) == 0)
        }
    }
}
