import MultiNICCore
@testable import MultiNICIPAM
import Testing

@Suite struct IPAMStateTests {
    static func state() throws -> IPAMState {
        var state = IPAMState(quarantineSeconds: 0)
        state.setPools([
            PoolBlock(name: "eth1-pool", network: "net", interfaceName: "eth1", podCIDR: try #require(IPNetwork("192.168.0.0/30")), podPrefix: 18),
            PoolBlock(name: "eth2-pool", network: "net", interfaceName: "eth2", podCIDR: try #require(IPNetwork("192.168.64.0/29")), podPrefix: 18),
        ])
        return state
    }

    static let both = [AllocationRequest(ifName: "net1-0", pool: "eth1-pool"), AllocationRequest(ifName: "net1-1", pool: "eth2-pool")]

    @Test func allocationIsIdempotentPerKey() throws {
        var state = try Self.state()
        let pod = PodRef(namespace: "default", name: "p", uid: "u1")
        let first = try state.allocate(network: "net", containerID: "c1", pod: pod, requests: Self.both, now: 0)
        #expect(first.new.count == 2)
        #expect(first.leases.map(\.address.description) == ["192.168.0.1", "192.168.64.1"])
        #expect(first.leases.map(\.prefixLength) == [18, 18])
        let again = try state.allocate(network: "net", containerID: "c1", pod: pod, requests: Self.both, now: 1)
        #expect(again.leases == first.leases)
        #expect(again.new.isEmpty)
    }

    /// Every stored lease shares its pool's copy of the names all its leases repeat (a pool name from a request is a
    /// fresh heap string per call: 10 000 leases held 10 000 copies).
    @Test func leasesShareTheirPoolsNames() throws {
        let poolName = "multinic-network-192.168.0.0-18", network = "multinic-network-long-name"
        var state = IPAMState(quarantineSeconds: 0)
        state.setPools([PoolBlock(name: poolName, network: network, interfaceName: "eth1", podCIDR: try #require(IPNetwork("192.168.0.0/24")),
                                  podPrefix: 18)])
        /// The address of a string's UTF-8 storage: equal for two strings that share one buffer.
        func storage(_ text: String) -> UnsafeRawPointer? { text.utf8.withContiguousStorageIfAvailable { UnsafeRawPointer($0.baseAddress) } ?? nil }
        for container in ["c1", "c2"] {
            // As a decoded request makes them: new strings every call.
            let fresh = { (text: String) in String(decoding: Array(text.utf8), as: UTF8.self) }
            _ = try state.allocate(network: fresh(network), containerID: container, pod: PodRef(),
                                   requests: [AllocationRequest(ifName: "net1-0", pool: fresh(poolName))], now: 0)
        }
        let stored = state.leases.values.sorted { $0.key < $1.key }
        try #require(stored.count == 2)
        let pool = try #require(state.pools[poolName])
        for lease in stored {
            #expect(storage(lease.pool) != nil && storage(lease.pool) == storage(pool.name))
            #expect(storage(lease.key.network) == storage(pool.network))
        }
    }

    /// Released addresses rest in quarantine while others are free; a pool with nothing else free gives the one
    /// released longest ago (a churning pool must not refuse pods: found by `lab chaos`, where a /24 refused ADDs with
    /// 253 addresses resting).
    @Test func quarantineIsAPreferenceNotALimit() throws {
        var state = IPAMState(quarantineSeconds: 30)
        state.setPools([PoolBlock(name: "p", network: "net", interfaceName: "eth1", podCIDR: try #require(IPNetwork("192.168.0.0/30")), podPrefix: 24)])
        let one = [AllocationRequest(ifName: "net1-0", pool: "p")]
        func take(_ container: String, at now: Double) throws -> String {
            try state.allocate(network: "net", containerID: container, pod: PodRef(), requests: one, now: now).leases[0].address.description
        }
        #expect(try take("c1", at: 0) == "192.168.0.1" && take("c2", at: 0) == "192.168.0.2")
        _ = state.release(state.keys(containerID: "c2"), now: 1)
        _ = state.release(state.keys(containerID: "c1"), now: 2)
        #expect(state.usage(pool: "p", now: 3).quarantined == 2)
        #expect(try take("c3", at: 3) == "192.168.0.2", "released longest ago")
        #expect(state.usage(pool: "p", now: 3) .quarantined == 1)
        #expect(try take("c4", at: 3) == "192.168.0.1")
        #expect(throws: IPAMError.poolExhausted(pool: "p", inUse: 2, quarantined: 0)) { try take("c5", at: 3) }
        // With a free address, the quarantined one rests.
        _ = state.release(state.keys(containerID: "c3"), now: 4)
        state.setPools([PoolBlock(name: "p", network: "net", interfaceName: "eth1", podCIDR: try #require(IPNetwork("192.168.0.0/29")), podPrefix: 24)])
        #expect(try take("c6", at: 5) != "192.168.0.2")
    }

    @Test func aMultiNICAllocationIsAllOrNothing() throws {
        var state = try Self.state()
        _ = try state.allocate(network: "net", containerID: "c1", pod: PodRef(), requests: Self.both, now: 0)
        _ = try state.allocate(network: "net", containerID: "c2", pod: PodRef(), requests: Self.both, now: 0)
        // eth1-pool (/30) is now full; the eth2 address of c3 must be rolled back.
        #expect(throws: IPAMError.poolExhausted(pool: "eth1-pool", inUse: 2, quarantined: 0)) {
            try state.allocate(network: "net", containerID: "c3", pod: PodRef(),
                               requests: [AllocationRequest(ifName: "net1-0", pool: "eth2-pool"),
                                          AllocationRequest(ifName: "net1-1", pool: "eth1-pool")], now: 0)
        }
        #expect(state.keys(containerID: "c3").isEmpty)
        #expect(state.usage(pool: "eth2-pool", now: 0).inUse == 2)
        #expect(throws: IPAMError.unknownPool("nope")) {
            try state.allocate(network: "net", containerID: "c4", pod: PodRef(),
                               requests: [AllocationRequest(ifName: "net1-0", pool: "nope")], now: 0)
        }
    }

    @Test func garbageCollectionAndSweep() throws {
        var state = try Self.state()
        _ = try state.allocate(network: "net", containerID: "c1", pod: PodRef(uid: "u1"), requests: Self.both, now: 0)
        _ = try state.allocate(network: "net", containerID: "c2", pod: PodRef(uid: "u2"), requests: Self.both, now: 0)
        let valid: Set = [AllocationKey(network: "net", containerID: "c1", ifName: "net1-0")]
        #expect(state.staleKeys(network: "net", valid: valid).map(\.description) == ["net/c1/net1-1", "net/c2/net1-0", "net/c2/net1-1"])
        #expect(state.staleKeys(network: "other", valid: []).isEmpty)
        // A CNI attachment (c1, net1) covers its per-NIC keys net1-0 and net1-1, not net10-0.
        let attachment: Set = [AllocationKey(network: "net", containerID: "c1", ifName: "net1")]
        #expect(state.staleKeys(network: "net", valid: attachment).map(\.description) == ["net/c2/net1-0", "net/c2/net1-1"])
        #expect(state.keys(ofPods: ["u2", ""]).map(\.containerID) == ["c2", "c2"], "by UID; an empty UID matches nothing")
    }

    @Test func aKeyCannotMoveToAnotherPool() throws {
        var state = try Self.state()
        _ = try state.allocate(network: "net", containerID: "c1", pod: PodRef(), requests: [Self.both[0]], now: 0)
        #expect(throws: IPAMError.keyInOtherPool(AllocationKey(network: "net", containerID: "c1", ifName: "net1-0"),
                                                 existing: "eth1-pool", requested: "eth2-pool")) {
            try state.allocate(network: "net", containerID: "c1", pod: PodRef(),
                               requests: [AllocationRequest(ifName: "net1-0", pool: "eth2-pool")], now: 0)
        }
    }
}
