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
