import MultiNICCore
@testable import MultiNICIPAM
import Testing

@Suite struct PoolAllocatorTests {
    func pool(_ cidr: String, excludes: [String] = [], name: String = "p") throws -> PoolBlock {
        PoolBlock(name: name, network: "net", interfaceName: "eth1", podCIDR: try #require(IPNetwork(cidr)), podPrefix: 18,
                  excludes: try excludes.map { try #require(try? IPNetwork.parse($0, bareAddressAsHost: true).get()) })
    }

    func fill(_ block: PoolBlock) throws -> [String] {
        var state = IPAMState(quarantineSeconds: 0)
        state.setPools([block])
        var addresses: [String] = []
        for index in 0..<1000 {
            do {
                let (leases, _) = try state.allocate(network: "net", containerID: "c\(index)", pod: PodRef(),
                                                     requests: [AllocationRequest(ifName: "net1-0", pool: block.name)], now: 0)
                addresses.append(leases[0].address.description)
            } catch .poolExhausted {
                return addresses
            }
        }
        Issue.record("pool never ran out")
        return addresses
    }

    @Test func ipv4SkipsNetworkAndBroadcastAndUsesTheLastAddress() throws {
        #expect(try fill(pool("10.0.0.0/29")) == (1...6).map { "10.0.0.\($0)" })
    }

    @Test func excludesAreNeverHandedOut() throws {
        // The upstream worked example: a /30 exclude at the start of the pool → the first address is .132.
        let addresses = try fill(pool("192.168.0.128/26", excludes: ["192.168.0.128/30", "192.168.0.150", "192.168.0.188/30"]))
        #expect(addresses.first == "192.168.0.132")
        #expect(!addresses.contains("192.168.0.150"))
        #expect(addresses.last == "192.168.0.187")
        #expect(addresses.count == 62 - 3 - 1 - 3, "62 usable minus .129–.131, .150 and .188–.190")
    }

    @Test func ipv6SkipsOnlyTheSubnetRouterAnycast() throws {
        let addresses = try fill(pool("fd00:10::/125"))
        #expect(addresses == (1...7).map { "fd00:10::\($0)" })
        let huge = try pool("fd00:10::/62")
        #expect(PoolAllocator(block: huge.podCIDR, excludes: []).usableCount == (UInt128(1) << 66) - 1)
    }

    @Test func allocationRollsForwardSoReleasedAddressesComeBackLast() throws {
        var state = IPAMState(quarantineSeconds: 0)
        state.setPools([try pool("10.0.0.0/29")])
        func allocate(_ id: String) throws -> String {
            try state.allocate(network: "net", containerID: id, pod: PodRef(),
                               requests: [AllocationRequest(ifName: "net1-0", pool: "p")], now: 0).leases[0].address.description
        }
        #expect(try allocate("a") == "10.0.0.1")
        #expect(try allocate("b") == "10.0.0.2")
        state.release(state.keys(containerID: "a"), now: 0)
        #expect(try allocate("c") == "10.0.0.3", "not the just-released .1")
    }

    /// A released address rests while another is free; with nothing else free it is given before its rest is over.
    @Test func quarantineKeepsAReleasedAddressOutWhileAnotherIsFree() throws {
        var state = IPAMState(quarantineSeconds: 30)
        state.setPools([try pool("10.0.0.0/30")])  // two usable addresses
        func allocate(_ id: String, at now: Double) throws(IPAMError) -> String {
            try state.allocate(network: "net", containerID: id, pod: PodRef(),
                               requests: [AllocationRequest(ifName: "net1-0", pool: "p")], now: now).leases[0].address.description
        }
        _ = try allocate("a", at: 0)
        state.release(state.keys(containerID: "a"), now: 10)
        #expect(try allocate("b", at: 20) == "10.0.0.2", "the resting .1 is passed over")
        #expect(try allocate("c", at: 20) == "10.0.0.1", "nothing else is free: the resting one is given")
        #expect(state.usage(pool: "p", now: 20).quarantined == 0)
        #expect(throws: IPAMError.poolExhausted(pool: "p", inUse: 2, quarantined: 0)) { try allocate("d", at: 20) }
    }
}
