import MultiNICCore
import MultiNICTestSupport
import Testing

/// Random scenarios: the invariants must hold for every seed.
@Suite struct CIDRPropertyTests {
    struct Scenario {
        var network: MultiNicNetwork
        var nets: [String]
        var hostNames: [String]
    }

    static func scenario(seed: UInt64, family: IPFamily) -> (Scenario, SeededRandom) {
        var random = SeededRandom(seed: seed)
        let interfaceBlock = Int.random(in: 1...3, using: &random)
        let hostBlock = Int.random(in: 2...5, using: &random)
        let netCount = Int.random(in: 1...(1 << interfaceBlock), using: &random)
        let nets = (0..<netCount).map { "10.\($0 + 1).0.0/16" }
        let subnet = family == .v4 ? "172.16.0.0/16" : "fd00:5::/56"
        let subnetNetwork = IPNetwork(subnet)!
        // Excludes: a few random blocks of random size inside the subnet, some bare addresses.
        var excludes: [String] = []
        for _ in 0..<Int.random(in: 0...3, using: &random) {
            let prefix = Int.random(in: (subnetNetwork.prefixLength + interfaceBlock)...(subnetNetwork.prefixLength
                + interfaceBlock + hostBlock + 2), using: &random)
            let extra = prefix - subnetNetwork.prefixLength
            let block = subnetNetwork.subnet(index: UInt64.random(in: 0..<(1 << UInt64(extra)), using: &random),
                                             extraBits: extra)!
            excludes.append(block.description)
        }
        let network = TestHosts.network(subnet: subnet, hostBlock: hostBlock, interfaceBlock: interfaceBlock,
                                        excludes: excludes, masterNets: Bool.random(using: &random) ? nets : nil)
        let hostNames = (0..<Int.random(in: 1...((1 << hostBlock) + 3), using: &random)).map { "node-\($0)" }
        return (Scenario(network: network, nets: nets, hostNames: hostNames), random)
    }

    static func randomHost(_ name: String, octet: Int, nets: [String], using random: inout SeededRandom) -> HostInterface {
        TestHosts.host(name, octet: octet % 250 + 1, nets: nets.filter { _ in Int.random(in: 0..<5, using: &random) > 0 })
    }

    static func freeInterfaceBlocks(_ network: MultiNicNetwork) throws -> Int {
        let config = try CIDRConfig(network: network.withoutMasterNets)
        let subnet = try #require(IPNetwork(config.subnet))
        let excludes = try BlockMath.parseExcludes(config.excludeCIDRs ?? []).get()
        return (0..<(UInt64(1) << UInt64(config.interfaceBlock))).filter { index in
            subnet.subnet(index: index, extraBits: config.interfaceBlock).map {
                !BlockMath.isTabu($0, excludes: excludes)
            } ?? false
        }.count
    }

    /// Blocks lie in their parents, never overlap, are never tabu when first assigned.
    static func checkLayout(_ spec: CIDRSpec, network: MultiNicNetwork) throws {
        let subnet = try #require(IPNetwork(network.spec.subnet))
        let excludes = try BlockMath.parseExcludes(spec.config.excludeCIDRs ?? []).get()
        var all: [IPNetwork] = []
        for entry in spec.cidr {
            let vlan = try #require(IPNetwork(entry.vlanCIDR))
            #expect(subnet.contains(vlan))
            #expect(!BlockMath.isTabu(vlan, excludes: excludes))
            #expect(Set(entry.hosts.map(\.hostIndex)).count == entry.hosts.count, "duplicate host index")
            for host in entry.hosts {
                let pod = try #require(IPNetwork(host.podCIDR))
                #expect(vlan.contains(pod))
                #expect(pod.prefixLength == vlan.prefixLength + spec.config.hostBlock)
                #expect(vlan.subnet(index: UInt64(host.hostIndex), extraBits: spec.config.hostBlock) == pod)
                all.append(pod)
            }
        }
        all.sort()
        for (lhs, rhs) in zip(all, all.dropFirst()) { #expect(!lhs.overlaps(rhs), "\(lhs) overlaps \(rhs)") }
    }

    @Test(arguments: [IPFamily.v4, .v6])
    func blocksNeverOverlapAndStayInsideTheSubnet(family: IPFamily) throws {
        for seed in UInt64(1)...150 {
            var (scenario, random) = Self.scenario(seed: seed, family: family)
            let hosts = scenario.hostNames.enumerated().map {
                Self.randomHost($1, octet: $0, nets: scenario.nets, using: &random)
            }
            let outcome = Result { () throws(CIDRError) in try CIDRPlan.compute(network: scenario.network, hosts: hosts) }
            guard case .success(let (spec, notes)) = outcome else {
                // Excludes may eat interface blocks: a rejection is right only when there really are too few.
                #expect(try Self.freeInterfaceBlocks(scenario.network) < scenario.nets.count,
                        "seed \(seed): rejected: \(outcome)")
                continue
            }
            try Self.checkLayout(spec, network: scenario.network)
            // Every host NIC got a block unless the notes say its network is full.
            let placed = spec.cidr.reduce(0) { $0 + $1.hosts.count }
            let wanted = hosts.reduce(0) { $0 + $1.spec.interfaces.count }
            #expect(placed == wanted || notes.contains { $0.contains("no free host block") || $0.contains("no interface block") },
                    "seed \(seed): placed \(placed) of \(wanted), notes \(notes)")
        }
    }

    @Test(arguments: [IPFamily.v4, .v6])
    func indicesAreStableAcrossJoinsAndLeaves(family: IPFamily) throws {
        for seed in UInt64(1)...60 {
            var (scenario, random) = Self.scenario(seed: seed, family: family)
            var live: [String: HostInterface] = [:]
            var order: [String] = []
            var spec: CIDRSpec?
            for step in 0..<40 {
                // Join a new host or let one leave (its node is deleted).
                if !order.isEmpty && Int.random(in: 0..<3, using: &random) == 0 {
                    let leaving = order.remove(at: Int.random(in: 0..<order.count, using: &random))
                    live[leaving] = nil
                } else {
                    let name = "node-\(step)"
                    live[name] = Self.randomHost(name, octet: step, nets: scenario.nets, using: &random)
                    order.append(name)
                }
                let hosts = order.compactMap { live[$0] }
                let before = spec
                let (next, _) = try CIDRPlan.compute(network: scenario.network, hosts: hosts, previous: before)
                try Self.checkLayout(next, network: scenario.network)
                if let before {
                    #expect(next.cidr.filter { !$0.hosts.isEmpty }.allSatisfy { entry in
                        before.cidr.first { $0.netAddress == entry.netAddress }.map { $0.interfaceIndex == entry.interfaceIndex } ?? true
                    }, "seed \(seed): an interface index moved")
                    for entry in before.cidr {
                        let now = TestHosts.hostIndices(next, net: entry.netAddress)
                        for host in entry.hosts where live[host.hostName] != nil {
                            #expect(now[host.hostName] == host.hostIndex, "seed \(seed): \(host.hostName) moved")
                        }
                    }
                }
                spec = next
            }
        }
    }

    @Test(arguments: [("172.16.0.0/16", "10.0.1.0/24"), ("fd00:5::/56", "fd00:aa::/64")])
    func gapsAreFilledOnlyAfterOverflow(subnet: String, net: String) throws {
        // hostBlock 2: four host blocks per interface.
        let network = TestHosts.network(subnet: subnet, hostBlock: 2, interfaceBlock: 1, masterNets: [net])
        func host(_ name: String) -> HostInterfaceSpec {
            HostInterfaceSpec(hostName: name, interfaces: [InterfaceInfo(interfaceName: "eth1", netAddress: net)])
        }
        var plan = try CIDRPlan(network: network)
        for name in ["a", "b", "c"] { plan.join(host(name)) }
        plan.remove(hostName: "b")
        plan.join(host("d"))  // max(0, 2) + 1 = 3: the gap at 1 is not reused yet
        #expect(TestHosts.hostIndices(plan.spec, net: plan.spec.cidr[0].netAddress) == ["a": 0, "c": 2, "d": 3])
        plan.join(host("e"))  // 4 overflows: the smallest free index, 1
        #expect(TestHosts.hostIndices(plan.spec, net: plan.spec.cidr[0].netAddress)["e"] == 1)
        plan.join(host("f"))  // full
        #expect(TestHosts.hostIndices(plan.spec, net: plan.spec.cidr[0].netAddress)["f"] == nil)
        #expect(plan.notes.contains { $0.contains("f on") && $0.contains("no free host block") })
        plan.remove(hostName: "d")  // the max leaves: max+1 reuses its index
        plan.join(host("g"))
        #expect(TestHosts.hostIndices(plan.spec, net: plan.spec.cidr[0].netAddress)["g"] == 3)
    }
}

extension MultiNicNetwork {
    var withoutMasterNets: MultiNicNetwork {
        var copy = self
        copy.spec.masterNets = nil
        return copy
    }
}
