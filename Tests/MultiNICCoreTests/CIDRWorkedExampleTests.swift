import MultiNICCore
import Testing

/// The worked examples of the upstream spec (§2.6), reproduced exactly.
@Suite struct CIDRWorkedExampleTests {
    let nets = ["10.0.1.0/24", "10.0.2.0/24"]

    @Test func hostBlock8WithExcludes() throws {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 8, interfaceBlock: 2,
                                        excludes: ["192.168.0.64/26", "192.168.0.128/30"], masterNets: nets)
        let hosts = [("A", 1), ("B", 2), ("C", 3)].map { TestHosts.host($0.0, octet: $0.1, nets: nets) }
        let (spec, notes) = try CIDRPlan.compute(network: network, hosts: hosts)
        #expect(notes.isEmpty)
        #expect(spec.cidr.map(\.vlanCIDR) == ["192.168.0.0/18", "192.168.64.0/18"])
        #expect(spec.cidr.map(\.interfaceIndex) == [0, 1])
        #expect(TestHosts.podCIDRs(spec, net: nets[0])
            == ["A": "192.168.0.0/26", "B": "192.168.0.128/26", "C": "192.168.0.192/26"])
        #expect(TestHosts.hostIndices(spec, net: nets[0]) == ["A": 0, "B": 2, "C": 3])
        #expect(TestHosts.podCIDRs(spec, net: nets[1])
            == ["A": "192.168.64.0/26", "B": "192.168.64.64/26", "C": "192.168.64.128/26"])
        #expect(spec.cidr[0].hosts.map(\.hostName) == ["A", "B", "C"])
        #expect(spec.cidr[0].hosts[1].hostIP == "10.0.1.2")
        #expect(spec.cidr[0].hosts[1].interfaceName == "eth1")
        #expect(spec.config.masterNets == nets)
        #expect(spec.config.vlanMode == "l3")

        let pools = IPPoolDerivation.pools(for: spec)
        #expect(pools.count == 6)
        let poolB = try #require(pools.first { $0.metadata.name == "net-192.168.0.128-26" })
        #expect(poolB.spec.excludes == ["192.168.0.128/30"])
        #expect(poolB.spec.vlanCIDR == "192.168.0.0/18")
        #expect(poolB.spec.hostName == "B")
        #expect(poolB.metadata.labels == ["hostname": "B", "netname": "net"])
        #expect(pools.filter { $0.metadata.name != "net-192.168.0.128-26" }.allSatisfy { $0.spec.excludes.isEmpty })

        // C's node is deleted: it leaves both entries. D then takes max+1 on each.
        var plan = try CIDRPlan(network: network, previous: spec)
        let remaining = hosts.filter { $0.name != "C" }.map(\.spec)
        plan.reconcile(hosts: remaining, existingNodes: ["A", "B"])
        #expect(TestHosts.hostIndices(plan.spec, net: nets[0]) == ["A": 0, "B": 2])
        plan.join(TestHosts.host("D", octet: 4, nets: nets).spec)
        #expect(TestHosts.hostIndices(plan.spec, net: nets[0]) == ["A": 0, "B": 2, "D": 3])
        #expect(TestHosts.hostIndices(plan.spec, net: nets[1]) == ["A": 0, "B": 1, "D": 2])
        #expect(TestHosts.podCIDRs(plan.spec, net: nets[0])["D"] == "192.168.0.192/26")
    }

    @Test func hostBlock6DocumentationExample() throws {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 2)
        let hosts = (1...3).map { TestHosts.host("host-\($0)", octet: $0, nets: nets) }
        let (spec, _) = try CIDRPlan.compute(network: network, hosts: hosts)
        #expect(TestHosts.podCIDRs(spec, net: nets[0])["host-2"] == "192.168.1.0/24")
        #expect(TestHosts.podCIDRs(spec, net: nets[1])["host-2"] == "192.168.65.0/24")
        // masterNets were not listed: discovered networks in first-seen order.
        #expect(spec.config.masterNets == nets)
        #expect(spec.cidr[1].hosts[1].ippool == "net-192.168.65.0-24")
    }
}
