import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// STATUS codes, GC releasing exactly the attachments that are not listed, per-NIC delegated IPAM
/// (`multiNICIPAM: false` with host-local) and `multi-nic-ipam` under a single standard plugin.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct MultiNICStatusGCTests {
    @Test func statusIsZeroFiftyOrFiftyOne() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let config = cluster.config("1.1.0", host: 0)
            let (healthy, healthyOutput) = try cluster.run("STATUS", host: 0, config: config)
            #expect(healthy == 0, "\(healthyOutput)")
            let unknown = try cluster.run("STATUS", host: 0, config: config.replacingOccurrences(of: #""name":"net""#, with: #""name":"other""#))
            #expect(unknown.0 != 0 && unknown.1.contains(#""code":50"#), "no pool of the network here: \(unknown.1)")

            // Another network's pool fills up: the daemon reports itself degraded (51) while `net` still has room.
            let client = try #require(UnixHTTPClient(path: cluster.hosts[0].socket))
            let tiny = #"{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"tiny"},"spec":{"podCIDR":"10.77.0.0/30","#
                + #""vlanCIDR":"10.77.0.0/30","netAttachDef":"tiny","hostName":"host-0","interfaceName":"eth1","excludes":[],"allocations":[]}}"#
            let pools = String(CNICluster.pools(host: 0, nics: 2).dropLast()) + "," + tiny + "]"
            #expect(client.request("PUT", "/pools", body: pools)?.status == 200)
            for container in ["t1", "t2"] {
                let body = #"{"pod":"p","namespace":"default","host":"host-0","def":"tiny","masters":["eth1"],"containerID":"\#(container)"}"#
                #expect(client.request("POST", "/allocate", body: body)?.status == 200)
            }
            let (degraded, degradedOutput) = try cluster.run("STATUS", host: 0, config: config)
            #expect(degraded != 0 && degradedOutput.contains(#""code":51"#) && degradedOutput.contains("tiny"), "\(degradedOutput)")

            cluster.hosts[0].daemon.kill()
            let (down, downOutput) = try cluster.run("STATUS", host: 0, config: config)
            #expect(down != 0 && downOutput.contains(#""code":50"#), "\(downOutput)")
        }
    }

    /// On both paths; only delegate attachments have records in the CNI state directory (a native one lives in the
    /// daemon's journal alone).
    @Test(arguments: [true, false])
    func gcReleasesExactlyTheAttachmentsNotListed(native: Bool) throws {
        try CNICluster.with(hosts: 1) { cluster in
            let path = native ? "" : #","nativeAttach":false"#
            let config = cluster.config("1.1.0", host: 0, extra: path)
            for (container, ifName) in [("keep", "net1"), ("keep", "net2"), ("stale", "net3")] {
                let (code, output) = try cluster.run("ADD", host: 0, config: config, container: container, ifName: ifName)
                try #require(code == 0, "\(output)")
            }
            #expect(cluster.inUse(host: 0) == 6)
            let valid = #","cni.dev/valid-attachments":[{"containerID":"keep","ifname":"net1"},{"containerID":"keep","ifname":"net2"}]"#
            let (code, output) = try cluster.run("GC", host: 0, config: cluster.config("1.1.0", host: 0, extra: path + valid))
            #expect(code == 0, "\(output)")
            #expect(cluster.inUse(host: 0) == 4, "only the stale attachment's two addresses go: \(cluster.status(host: 0))")
            let records = (try? FileManager.default.contentsOfDirectory(atPath: cluster.hosts[0].stateDirectory + "/attachments")) ?? []
            #expect(records.count == (native ? 0 : 2) && !records.contains { $0.contains("stale") }, "\(records)")
            let bad = try cluster.run("GC", host: 0, config: cluster.config("1.1.0", host: 0,
                                                                         extra: path + #","cni.dev/valid-attachments":[{"ifname":"net1"}]"#))
            #expect(bad.0 != 0 && bad.1.contains(#""code":7"#) && cluster.inUse(host: 0) == 4, "a malformed list releases nothing")
        }
    }

    @Test func delegatedIPAMRunsTheNetworksOwnIPAMPerNIC() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let dataDir = cluster.hosts[0].directory + "/host-local"
            let config = cluster.config("1.0.0", host: 0)
                .replacingOccurrences(of: #""ipam":{"type":"multi-nic-ipam"}"#,
                                      with: #""ipam":{"type":"host-local","dataDir":"\#(dataDir)","ranges":[[{"subnet":"10.99.0.0/24"}]]}"#)
                .replacingOccurrences(of: #""multiNICIPAM":true"#, with: #""multiNICIPAM":false"#)
            let (code, result) = try cluster.run("ADD", host: 0, config: config)
            try #require(code == 0, "\(result)")
            let addresses = try TestNamespace.ip("-n", cluster.pods[0], "-o", "addr", "show")
            #expect(addresses.contains("10.99.0.2/24") && addresses.contains("10.99.0.3/24"), "one host-local address per NIC: \(addresses)")
            #expect(cluster.inUse(host: 0) == 0, "the daemon allocated nothing")
            let held = try FileManager.default.contentsOfDirectory(atPath: dataDir + "/net").filter { $0.hasPrefix("10.99.") }
            #expect(held.count == 2)
            let (deleted, output) = try cluster.run("DEL", host: 0, config: config)
            #expect(deleted == 0, "\(output)")
            let after = try FileManager.default.contentsOfDirectory(atPath: dataDir + "/net").filter { $0.hasPrefix("10.99.") }
            #expect(after.isEmpty, "host-local released both: \(after)")
        }
    }

    @Test func multiNICIPAMServesASingleMacvlan() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let plugins = cluster.hosts[0].directory + "/cni"
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
            // A link, as an installer would place it next to libMultiNICCore (the binary finds it through $ORIGIN).
            try FileManager.default.createSymbolicLink(atPath: plugins + "/multi-nic-ipam",
                                                       withDestinationPath: BuiltPlugins.executable("multi-nic-ipam").path)
            let config = #"{"cniVersion":"1.0.0","name":"net","type":"macvlan","master":"eth2","mode":"bridge","#
                + #""ipam":{"type":"multi-nic-ipam","#
                + #""routes":[{"dst":"10.200.0.0/16"}]}}"#
            let (code, result) = try cluster.run("ADD", binary: "/usr/lib/cni/macvlan", host: 0, config: config, ifName: "eth9",
                                                 path: plugins + ":/usr/lib/cni")
            try #require(code == 0, "\(result)")
            let addresses = try TestNamespace.ip("-n", cluster.pods[0], "-o", "addr", "show", "dev", "eth9")
            #expect(addresses.contains("192.168.64.1/18"), "the daemon's address for eth2: \(addresses)")
            #expect(try TestNamespace.ip("-n", cluster.pods[0], "route", "show").contains("10.200.0.0/16"))
            #expect(cluster.inUse(host: 0) == 1)
            let (deleted, output) = try cluster.run("DEL", binary: "/usr/lib/cni/macvlan", host: 0, config: config, ifName: "eth9",
                                                    path: plugins + ":/usr/lib/cni")
            #expect(deleted == 0, "\(output)")
            #expect(cluster.inUse(host: 0) == 0)
        }
    }
}
