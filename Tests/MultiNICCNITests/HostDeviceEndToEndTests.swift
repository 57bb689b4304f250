import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// host-device end to end: Debian's host-device plugin moves whole NICs (veths standing in) into pods through the
/// real `multi-nic` and multi-nicd; each NIC goes to one pod at a time with its pool address, stays reported while
/// away (also across a daemon restart), and comes back under its own name with its host address — after a DEL, and
/// after a pod that went without one (the NIC back on the host as `net1-0`, the pod's leases released by the leak
/// sweep) — with the MTU it had on the host, whatever the pod set.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2 and /usr/lib/cni/host-device (CI runs as root)"), .serialized)
struct HostDeviceEndToEndTests {
    static let config = #"{"cniVersion":"1.1.0","name":"net","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"#
        + #""plugin":{"cniVersion":"1.0.0","type":"host-device"},"masterNets":["10.0.1.0/24","10.0.2.0/24"],"#
        + #""multiNICIPAM":true,"args":{"cni":{"nics":1}}}"#

    /// The daemon's NICs: name → in use (lent to a pod).
    static func interfaces(_ cluster: CNICluster) throws -> [String: Bool] {
        let body = UnixHTTPClient(path: cluster.hosts[0].socket)?.request("GET", DaemonAPI.interfacePath)?.body ?? ""
        let list = try JSONDecoder().decode([InterfaceInfo].self, from: Data(body.utf8))
        return Dictionary(list.map { ($0.interfaceName, $0.inUse == true) }) { first, _ in first }
    }

    /// `ip -br addr` of the host's `name`, or "" when it is not there.
    static func hostLink(_ cluster: CNICluster, _ name: String) -> String {
        (try? TestNamespace.ip("-n", cluster.hosts[0].namespace, "-br", "addr", "show", "dev", name)) ?? ""
    }

    /// The MTU of the host's `name`, or nil when it is not there.
    static func hostMTU(_ cluster: CNICluster, _ name: String) -> Int? {
        let words = ((try? TestNamespace.ip("-n", cluster.hosts[0].namespace, "link", "show", "dev", name)) ?? "").split(separator: " ")
        return words.firstIndex(of: "mtu").flatMap { words.index(after: $0) < words.endIndex ? Int(words[words.index(after: $0)]) : nil }
    }

    static func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<100 {
            if try condition() { return true }
            usleep(50_000)
        }
        return try condition()
    }

    @Test func wholeNICsGoToOnePodEachAndComeBackWithTheirNames() throws {
        try CNICluster.with(hosts: 1, nics: 2) { cluster in
            try TestNamespace.withMany(2) { extra in
                let pods = [cluster.pods[0], extra[0], extra[1]].map { "/var/run/netns/" + $0 }
                // The host's MTU (a jumbo one), which the pods change and the daemon puts back.
                for nic in ["eth1", "eth2"] { try TestNamespace.ip("-n", cluster.hosts[0].namespace, "link", "set", nic, "mtu", "9000") }
                func add(_ pod: Int) throws -> (Int32, String) {
                    try cluster.run("ADD", host: 0, config: Self.config, container: "c\(pod)", netns: pods[pod], pod: "p\(pod)")
                }
                // Two pods, one NIC each, each with its pool address on the moved NIC.
                var lent: [String] = []
                for pod in 0..<2 {
                    let (code, output) = try add(pod)
                    #expect(code == 0, "\(output)")
                    let result = try JSONValue.parse(output)
                    let address = result.objectValue?["ips"]?.arrayValue?.first?.objectValue?["address"]?.stringValue ?? ""
                    #expect(address.hasPrefix("192.168."), "\(output)")
                    let inPod = try TestNamespace.ip("-n", pods[pod].replacingOccurrences(of: "/var/run/netns/", with: ""), "-d", "link", "show", "net1-0")
                    // The NIC itself (a veth here), its host name kept as the alias.
                    #expect(inPod.contains("veth") && inPod.contains("alias eth"), "\(inPod)")
                    lent.append(inPod.contains("alias eth1") ? "eth1" : "eth2")
                    #expect(inPod.contains("mtu 9000"), "\(inPod)")
                    try TestNamespace.ip("-n", pods[pod].replacingOccurrences(of: "/var/run/netns/", with: ""), "link", "set", "net1-0", "mtu", "1280")
                }
                #expect(Set(lent) == ["eth1", "eth2"], "one pod per NIC")
                #expect(Self.hostLink(cluster, "eth1").isEmpty && Self.hostLink(cluster, "eth2").isEmpty)
                #expect(try Self.interfaces(cluster) == ["eth1": true, "eth2": true], "away, still reported, in use")

                // No NIC left: the third pod is refused, saying why, and holds nothing.
                let (refused, message) = try add(2)
                #expect(refused != 0 && message.contains("lent to pods"), "\(message)")
                #expect(cluster.inUse(host: 0) == 2)

                // A daemon restart while both NICs are in pods forgets nothing.
                try cluster.hosts[0].restartDaemon()
                #expect(try Self.interfaces(cluster) == ["eth1": true, "eth2": true])

                // DEL of pod 1: its NIC is back under its name, up, with its host address.
                let (deleted, deleteOutput) = try cluster.run("DEL", host: 0, config: Self.config, container: "c1", netns: pods[1], pod: "p1")
                #expect(deleted == 0, "\(deleteOutput)")
                let back = lent[1], hostAddress = back == "eth1" ? "10.0.1.11/24" : "10.0.2.11/24"
                #expect(Self.eventually { Self.hostLink(cluster, back).contains(hostAddress) && Self.hostLink(cluster, back).contains("UP") },
                        "\(Self.hostLink(cluster, back))")
                #expect(try Self.eventually { try Self.interfaces(cluster)[back] == false })
                #expect(Self.hostMTU(cluster, back) == 9000, "the pod's MTU stayed on the host NIC")

                // Pod 0 goes without a DEL: as the kernel does when a pod's namespace dies, its NIC is back on the
                // host under the pod's name; its lease holds it until the leak sweep releases the pod.
                let pod0 = pods[0].replacingOccurrences(of: "/var/run/netns/", with: "")
                try TestNamespace.ip("-n", pod0, "link", "set", "net1-0", "netns", cluster.hosts[0].namespace)
                #expect(!Self.hostLink(cluster, "net1-0").isEmpty)
                let client = try #require(UnixHTTPClient(path: cluster.hosts[0].socket))
                let snapshot = try JSONDecoder().decode(PodLeaseSnapshot.self, from: Data((client.request("GET", DaemonAPI.podLeasesPath)?.body ?? "").utf8))
                #expect(snapshot.pods.map(\.uid) == ["p0"])
                let release = String(decoding: try JSONEncoder().encode(PodReleaseRequest(snapshotTakenAt: snapshot.takenAt, podUIDs: ["p0"])), as: UTF8.self)
                #expect(client.request("POST", DaemonAPI.releasePodsPath, body: release)?.status == 200)
                let first = lent[0], firstAddress = first == "eth1" ? "10.0.1.11/24" : "10.0.2.11/24"
                #expect(Self.eventually { Self.hostLink(cluster, first).contains(firstAddress) }, "\(Self.hostLink(cluster, first))")
                #expect(Self.hostLink(cluster, "net1-0").isEmpty)
                #expect(Self.hostMTU(cluster, first) == 9000)
                #expect(try Self.interfaces(cluster) == ["eth1": false, "eth2": false])
                #expect(cluster.inUse(host: 0) == 0)

                // Both NICs can be lent again.
                let (again, againOutput) = try add(2)
                #expect(again == 0, "\(againOutput)")
                #expect(try cluster.run("DEL", host: 0, config: Self.config, container: "c2", netns: pods[2], pod: "p2").0 == 0)
            }
        }
    }
}
