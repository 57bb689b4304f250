import MultiNICCore
import Testing

@Suite struct CIDRIncrementalTests {
    let nets = ["10.0.1.0/24", "10.0.2.0/24"]

    func baseline() throws -> (MultiNicNetwork, [HostInterface], CIDRSpec) {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 2)
        let hosts = (1...3).map { TestHosts.host("n\($0)", octet: $0, nets: nets) }
        return (network, hosts, try CIDRPlan.compute(network: network, hosts: hosts).spec)
    }

    @Test func recomputingFromThePreviousCIDRChangesNothing() throws {
        let (network, hosts, spec) = try baseline()
        let (again, notes) = try CIDRPlan.compute(network: network, hosts: hosts.reversed(), previous: spec)
        #expect(again == spec)
        #expect(notes.isEmpty)
    }

    @Test func emptyDiscoveryNeverDeletesAHostsBlocks() throws {
        let (network, hosts, spec) = try baseline()
        var glitch = hosts
        glitch[1].spec.interfaces = []  // daemon answered with nothing (upstream #78)
        let (after, _) = try CIDRPlan.compute(network: network, hosts: glitch, previous: spec)
        #expect(after == spec)
    }

    @Test func aMissingHostInterfaceKeepsBlocksWhileTheNodeExists() throws {
        let (network, hosts, spec) = try baseline()
        let withoutN2 = hosts.filter { $0.name != "n2" }
        let (kept, _) = try CIDRPlan.compute(network: network, hosts: withoutN2, previous: spec,
                                             existingNodes: ["n1", "n2", "n3"])
        #expect(kept == spec)
        let (dropped, _) = try CIDRPlan.compute(network: network, hosts: withoutN2, previous: spec,
                                                existingNodes: ["n1", "n3"])
        #expect(dropped.cidr.allSatisfy { !$0.hosts.contains { $0.hostName == "n2" } })
        #expect(TestHosts.hostIndices(dropped, net: nets[0]) == ["n1": 0, "n3": 2])
    }

    @Test func aRemovedNICLosesOnlyItsBlock() throws {
        let (network, hosts, spec) = try baseline()
        var changed = hosts
        changed[0].spec.interfaces.removeLast()
        let (after, _) = try CIDRPlan.compute(network: network, hosts: changed, previous: spec)
        #expect(TestHosts.hostIndices(after, net: nets[0]) == ["n1": 0, "n2": 1, "n3": 2])
        #expect(TestHosts.hostIndices(after, net: nets[1]) == ["n2": 1, "n3": 2])
    }

    @Test func frozenFieldsCannotChange() throws {
        let (_, hosts, spec) = try baseline()
        let wider = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 7, interfaceBlock: 2)
        #expect(throws: CIDRError.immutableChange(field: "spec.ipam.hostBlock", previous: "6", current: "7")) {
            try CIDRPlan.compute(network: wider, hosts: hosts, previous: spec)
        }
        let moved = TestHosts.network(subnet: "10.128.0.0/16", hostBlock: 6, interfaceBlock: 2)
        #expect(throws: CIDRError.immutableChange(field: "spec.subnet", previous: "192.168.0.0/16",
                                                  current: "10.128.0.0/16")) {
            try CIDRPlan.compute(network: moved, hosts: hosts, previous: spec)
        }
    }

    @Test func tooManyMasterNetsIsAnErrorNotAnEndlessLoop() throws {
        let five = (1...5).map { "10.0.\($0).0/24" }
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 2, masterNets: five)
        #expect(throws: CIDRError.self) { try CIDRPlan(network: network) }
        // Excludes count too: four blocks, one excluded, four networks.
        let config = CIDRConfig(name: "n", type: "ipvlan", subnet: "192.168.0.0/16", masterNets: Array(five.prefix(4)),
                                hostBlock: 6, interfaceBlock: 2, excludeCIDRs: ["192.168.64.0/18"])
        #expect(throws: CIDRError.interfaceIndexOverflow(netAddress: "10.0.4.0/24", capacity: 4)) {
            try CIDRPlan(config: config)
        }
    }

    @Test func discoveredNetworksBeyondTheInterfaceBlocksAreSkippedWithANote() throws {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 1)
        let host = TestHosts.host("n1", octet: 1, nets: ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"])
        let (spec, notes) = try CIDRPlan.compute(network: network, hosts: [host])
        #expect(spec.cidr.map(\.netAddress) == ["10.0.1.0/24", "10.0.2.0/24"])
        #expect(notes == ["10.0.3.0/24: no interface block left (interfaceBlock 1)"])
    }

    @Test func onlyListedMasterNetsGetBlocks() throws {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 2,
                                        masterNets: ["10.0.2.0/24"])
        let host = TestHosts.host("n1", octet: 1, nets: nets)
        let (spec, _) = try CIDRPlan.compute(network: network, hosts: [host])
        #expect(spec.cidr.map(\.netAddress) == ["10.0.2.0/24"])
        #expect(spec.cidr[0].vlanCIDR == "192.168.0.0/18")
        #expect(spec.cidr[0].hosts[0].interfaceName == "eth2")
    }

    @Test func twoNICsOnOneNetworkUseTheFirst() throws {
        let network = TestHosts.network(subnet: "192.168.0.0/16", hostBlock: 6, interfaceBlock: 2)
        let interfaces = [InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.1"),
                          InterfaceInfo(interfaceName: "eth2", netAddress: "10.0.1.0/24", hostIP: "10.0.1.2")]
        let host = HostInterface(metadata: ObjectMeta(name: "n1"), spec: HostInterfaceSpec(hostName: "n1", interfaces: interfaces))
        let (spec, notes) = try CIDRPlan.compute(network: network, hosts: [host])
        #expect(spec.cidr[0].hosts.map(\.interfaceName) == ["eth1"])
        #expect(notes == ["n1: eth1 and eth2 are both on 10.0.1.0/24; using eth1"])
    }

    @Test func hostSubnetModeWithPerHostNetworks() throws {
        // hostBlock 0: every host's pod block is its own interface network (unmanaged / IP-less pattern).
        let network = TestHosts.network(subnet: "", hostBlock: 0, interfaceBlock: 0)
        let hosts = [TestHosts.host("a", octet: 5, nets: ["10.1.0.0/24"]), TestHosts.host("b", octet: 6, nets: ["10.2.0.0/24"])]
        let (spec, _) = try CIDRPlan.compute(network: network, hosts: hosts)
        #expect(spec.config.subnet == "")
        #expect(spec.cidr.map(\.vlanCIDR) == ["10.1.0.0/24", "10.2.0.0/24"])
        #expect(spec.cidr.map(\.interfaceIndex) == [0, 1])
        #expect(spec.cidr.map { $0.hosts.map(\.podCIDR) } == [["10.1.0.0/24"], ["10.2.0.0/24"]])
        // The host's own address is never handed to a pod (upstream #109).
        let pools = IPPoolDerivation.pools(for: spec)
        #expect(pools.map(\.spec.excludes) == [["10.1.0.5/32"], ["10.2.0.6/32"]])
    }

    @Test func hostSubnetModeWithSubBlocks() throws {
        let network = TestHosts.network(subnet: "", hostBlock: 2, interfaceBlock: 0)
        let hosts = (1...3).map { TestHosts.host("h\($0)", octet: $0 * 70, nets: ["10.9.0.0/24"]) }
        let (spec, _) = try CIDRPlan.compute(network: network, hosts: hosts)
        #expect(spec.cidr[0].hosts.map(\.podCIDR) == ["10.9.0.0/26", "10.9.0.64/26", "10.9.0.128/26"])
        let pools = IPPoolDerivation.pools(for: spec)
        // h1 is .70 (in h2's block), h2 is .140 (in h3's block), h3 is .210 (in the unused 4th block).
        #expect(pools.map(\.spec.excludes) == [[], ["10.9.0.70/32"], ["10.9.0.140/32"]])
    }

    @Test func existingPoolsKeepTheirAllocations() throws {
        let (_, _, spec) = try baseline()
        var pools = IPPoolDerivation.pools(for: spec)
        pools[0].spec.allocations = [Allocation(pod: "p", namespace: "default", index: 1, address: "192.168.0.1")]
        let again = IPPoolDerivation.pools(for: spec, existing: pools)
        #expect(again[0].spec.allocations == pools[0].spec.allocations)
        #expect(again[1].spec.allocations.isEmpty)
    }
}
