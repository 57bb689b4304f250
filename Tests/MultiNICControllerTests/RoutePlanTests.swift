import MultiNICController
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The route index gives every node exactly the routes of the plain definition: for each interface network the node
/// has, every other host's pod block via that host's address, on the node's NIC of that network — hosts in host
/// index order, none through the node's own address.
@Suite struct RoutePlanTests {
    /// The definition, written as plainly as possible (a search and a sort per node and interface).
    static func reference(_ cidr: CIDRSpec, node: String) -> [L3Route] {
        var routes: [L3Route] = []
        for entry in cidr.cidr.sorted(by: { $0.interfaceIndex < $1.interfaceIndex }) {
            guard let own = entry.hosts.first(where: { $0.hostName == node }) else { continue }
            for peer in entry.hosts.sorted(by: { $0.hostIndex < $1.hostIndex })
            where peer.hostName != node && !peer.hostIP.isEmpty && peer.hostIP != own.hostIP {
                routes.append(L3Route(net: peer.podCIDR, via: peer.hostIP, iface: own.interfaceName))
            }
        }
        return routes
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func theIndexMatchesTheDefinition(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var entries: [CIDREntry] = []
        for interface in 0..<Int.random(in: 1...3, using: &random) {
            var hosts: [HostCIDR] = []
            for host in (0..<Int.random(in: 0...40, using: &random)).shuffled(using: &random) {
                // Some hosts lack an address; some share one (a misconfigured pair); indices are unique per interface.
                let ip = Int.random(in: 0...9, using: &random) == 0 ? "" : "10.\(interface).0.\(Int.random(in: 1...30, using: &random))"
                hosts.append(HostCIDR(hostIndex: host, hostName: "node-\(Int.random(in: 0...45, using: &random))", interfaceName: "eth\(interface + 1)",
                                      hostIP: ip, podCIDR: "192.168.\(interface * 64 + host).0/24", ippool: "pool-\(interface)-\(host)"))
            }
            entries.append(CIDREntry(netAddress: "10.\(interface).0.0/24", interfaceIndex: [2, 0, 1][interface], vlanCIDR: "192.168.0.0/16",
                                     hosts: hosts))
        }
        let cidr = CIDRSpec(config: CIDRConfig(name: "net", type: "macvlan", subnet: "192.168.0.0/16", masterNets: [], hostBlock: 8,
                                               interfaceBlock: 2, vlanMode: "l3"), cidr: entries)
        let index = RoutePlan.Index(cidr)
        #expect(index.hosts == RoutePlan.hosts(cidr))
        for node in (0...46).map({ "node-\($0)" }) {
            #expect(index.request(node: node).routes == Self.reference(cidr, node: node), "seed \(seed), \(node)")
        }
    }
}
