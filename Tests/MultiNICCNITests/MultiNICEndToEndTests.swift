import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The real `multi-nic` binary, as Multus runs it, against a real multi-nicd per host: the daemon attaching natively
/// (macvlan through netlink) or, with `nativeAttach: false`, delegating to Debian's macvlan plugin: two hosts whose
/// NICs share per-network bridges, one pod per host.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct MultiNICEndToEndTests {
    /// The NetConf key that picks the path.
    static func pathKey(native: Bool) -> String { native ? "" : #","nativeAttach":false"# }

    @Test(arguments: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"], [true, false])
    func podsOnTwoHostsReachEachOtherOnEveryNICAndDelRemovesEverything(version: String, native: Bool) throws {
        try CNICluster.with { cluster in
            var results: [String] = []
            let extra = Self.pathKey(native: native)
            // Native: no delegate may be needed, so the ADD gets a CNI_PATH without plugins.
            let noPlugins = cluster.hosts[0].directory + "/no-plugins"
            try FileManager.default.createDirectory(atPath: noPlugins, withIntermediateDirectories: true)
            for host in 0..<2 {
                let (code, result) = try cluster.run("ADD", host: host, config: cluster.config(version, host: host, extra: extra),
                                                     path: native ? noPlugins : "/usr/lib/cni")
                try #require(code == 0, "ADD on host \(host) failed: \(result)")
                results.append(result)
                let parsed = try #require(try JSONValue.parse(result).objectValue)
                #expect(parsed["cniVersion"] == .string(version))
                let interfaces = parsed["interfaces"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue }
                #expect(interfaces == ["net1-0", "net1-1"])
                let indices = parsed["ips"]?.arrayValue?.compactMap { item -> Int64? in
                    if case .integer(let index)? = item.objectValue?["interface"] { return index }
                    return nil
                }
                #expect(indices == [0, 1], "each address names its interface: \(result)")
                if version.hasPrefix("0.") { #expect(result.contains(#""version":"4""#)) }
                let addresses = try TestNamespace.ip("-n", cluster.pods[host], "-o", "addr", "show")
                let routes = try TestNamespace.ip("-n", cluster.pods[host], "route", "show")
                for nic in 0..<2 {
                    #expect(addresses.contains("net1-\(nic)") && addresses.contains(CNICluster.podAddress(host: host, nic: nic) + "/18"),
                            "\(addresses)")
                    #expect(routes.contains("192.168.\(64 * nic).0/18 dev net1-\(nic)"), "connected /18 per NIC: \(routes)")
                }
            }
            for nic in 0..<2 {
                #expect(cluster.ping(from: 0, ifName: "net1-\(nic)", to: CNICluster.podAddress(host: 1, nic: nic)), "pod0 → pod1 on NIC \(nic)")
                #expect(cluster.ping(from: 1, ifName: "net1-\(nic)", to: CNICluster.podAddress(host: 0, nic: nic)), "pod1 → pod0 on NIC \(nic)")
            }
            if version != "0.3.0" && version != "0.3.1" {
                let check = try cluster.run("CHECK", host: 0, config: cluster.config(version, host: 0, extra: extra + #","prevResult":\#(results[0])"#))
                #expect(check.0 == 0, "CHECK after ADD: \(check.1)")
            }
            for host in 0..<2 {
                let (deleted, output) = try cluster.run("DEL", host: host, config: cluster.config(version, host: host, extra: extra),
                                                        path: native ? noPlugins : "/usr/lib/cni")
                #expect(deleted == 0, "DEL failed: \(output)")
                let links = try TestNamespace.ip("-n", cluster.pods[host], "-o", "link", "show")
                #expect(!links.contains("net1-"), "every pod link removed: \(links)")
                #expect(cluster.inUse(host: host) == 0, "every address released: \(cluster.status(host: host))")
                #expect(try cluster.run("DEL", host: host, config: cluster.config(version, host: host, extra: extra)).0 == 0,
                        "a second DEL succeeds")
            }
            let log = (try? String(contentsOfFile: cluster.hosts[0].directory + "/cni.log", encoding: .utf8)) ?? ""
            #expect(log.contains("multi-nic ADD container=c0 ifname=net1 network=net exit=0"), "one log line per call: \(log)")
        }
    }

    @Test func aFailureOnTheSecondOfThreeNICsLeavesNothingBehind() throws {
        try CNICluster.with(hosts: 1, nics: 3) { cluster in
            // The delegate path: a delegate that fails for net1-1 and is Debian's macvlan otherwise.
            let plugins = cluster.hosts[0].directory + "/cni"
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
            let script = "#!/bin/sh\nif [ \"$CNI_IFNAME\" = net1-1 ] && [ \"$CNI_COMMAND\" = ADD ]; then\n"
                + "  echo '{\"cniVersion\":\"1.0.0\",\"code\":100,\"msg\":\"injected failure\"}'; exit 1\nfi\nexec /usr/lib/cni/macvlan\n"
            try script.write(toFile: plugins + "/macvlan", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugins + "/macvlan")
            try FileManager.default.copyItem(atPath: "/usr/lib/cni/static", toPath: plugins + "/static")
            let (code, output) = try cluster.run("ADD", host: 0, config: cluster.config("1.0.0", host: 0, extra: Self.pathKey(native: false)),
                                                 path: plugins)
            #expect(code != 0)
            #expect(output.contains(#""code":100"#) && output.contains("injected failure"), "\(output)")
            let links = try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")
            #expect(!links.contains("net1-"), "the first NIC was rolled back: \(links)")
            #expect(cluster.inUse(host: 0) == 0, "addresses released: \(cluster.status(host: 0))")
            let records = (try? FileManager.default.contentsOfDirectory(atPath: cluster.hosts[0].stateDirectory + "/attachments")) ?? []
            #expect(records.isEmpty, "no attachment record left: \(records)")
        }
    }

    @Test func aNativeFailureOnTheSecondOfThreeNICsLeavesNothingOfOursBehind() throws {
        try CNICluster.with(hosts: 1, nics: 3) { cluster in
            // The pod already has a net1-1 (not ours): the daemon's create of net1-1 is refused (EEXIST).
            try TestNamespace.ip("-n", cluster.pods[0], "link", "add", "net1-1", "type", "veth", "peer", "name", "theirs")
            let (code, output) = try cluster.run("ADD", host: 0, config: cluster.config("1.0.0", host: 0))
            #expect(code != 0 && output.contains("net1-1"), "\(output)")
            let links = try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")
            #expect(!links.contains("net1-0") && !links.contains("net1-2"), "the first NIC was rolled back, the third never made: \(links)")
            #expect(links.contains("net1-1@theirs"), "the pod's own link is left alone: \(links)")
            #expect(cluster.inUse(host: 0) == 0, "addresses released: \(cluster.status(host: 0))")
            let records = (try? FileManager.default.contentsOfDirectory(atPath: cluster.hosts[0].stateDirectory + "/attachments")) ?? []
            #expect(records.isEmpty, "no attachment record left: \(records)")
        }
    }

    @Test func checkReportsAMissingAddressAndAMissingInterface() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let (code, result) = try cluster.run("ADD", host: 0, config: cluster.config("1.0.0", host: 0))
            try #require(code == 0, "\(result)")
            let withPrevious = cluster.config("1.0.0", host: 0, extra: #","prevResult":\#(result)"#)
            #expect(try cluster.run("CHECK", host: 0, config: withPrevious).0 == 0)
            try TestNamespace.ip("-n", cluster.pods[0], "addr", "del", CNICluster.podAddress(host: 0, nic: 1) + "/18", "dev", "net1-1")
            let (lacking, lackingOutput) = try cluster.run("CHECK", host: 0, config: withPrevious)
            #expect(lacking != 0 && lackingOutput.contains(#""code":100"#) && lackingOutput.contains("net1-1 lacks 192.168.64.1/18"),
                    "\(lackingOutput)")
            try TestNamespace.ip("-n", cluster.pods[0], "link", "del", "net1-0")
            let (missing, missingOutput) = try cluster.run("CHECK", host: 0, config: withPrevious)
            #expect(missing != 0 && missingOutput.contains("net1-0 is missing"), "\(missingOutput)")
            let old = try cluster.run("CHECK", host: 0, config: cluster.config("0.3.1", host: 0, extra: #","prevResult":\#(result)"#))
            #expect(old.0 != 0 && old.1.contains(#""code":1"#), "CHECK does not exist before 0.4.0: \(old.1)")
            #expect(try cluster.run("DEL", host: 0, config: cluster.config("1.0.0", host: 0)).0 == 0)
        }
    }
}
