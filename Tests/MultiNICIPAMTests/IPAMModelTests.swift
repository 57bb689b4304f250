import Foundation
import MultiNICCore
@testable import MultiNICIPAM
import MultiNICTestSupport
import Testing

/// Random allocate / release / GC / sweep / restart sequences against a simple model of which keys hold a lease.
@Suite struct IPAMModelTests {
    /// A mutable clock for the service.
    final class Clock: @unchecked Sendable {
        var now: Double = 1000
    }

    @Test(arguments: [("10.9.0.0/28", "10.9.1.0/29", ["10.9.0.5", "10.9.0.8/30"]),
                      ("fd00:9::/124", "fd00:9:1::/125", ["fd00:9::5", "fd00:9::8/126"])])
    func randomOperationsKeepTheInvariants(first: String, second: String, excludes: [String]) async throws {
        for seed in UInt64(1)...12 {
            try await withStateDirectory { directory in
                var random = SeededRandom(seed: seed)
                let clock = Clock()
                let pools = [try block("p1", first, excludes: excludes), try block("p2", second, interface: "eth2")]
                var service = try IPAMService(directory: directory, quarantineSeconds: 5, compactionThreshold: 4096,
                                              clock: { clock.now })
                try await service.setPools(pools)
                var model: [AllocationKey: String] = [:]  // key → pool
                for step in 0..<120 {
                    clock.now += Double(Int.random(in: 0...3, using: &random))
                    let container = "c\(Int.random(in: 0..<24, using: &random))"
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0..<5:
                        let requests = Bool.random(using: &random)
                            ? [AllocationRequest(ifName: "net1-0", pool: "p1"), AllocationRequest(ifName: "net1-1", pool: "p2")]
                            : [AllocationRequest(ifName: "net1-0", pool: "p1")]
                        let keys = requests.map { AllocationKey(network: "net", containerID: container, ifName: $0.ifName) }
                        // A key never moves pool, so reuse only containers whose keys agree.
                        let clash = zip(keys, requests).contains { key, request in
                            model[key].map { $0 != request.pool } ?? false
                        }
                        if clash { continue }
                        do {
                            let leases = try await service.allocate(network: "net", containerID: container,
                                                                    pod: PodRef(uid: container), requests: requests)
                            #expect(leases.count == requests.count)
                            for request in requests {
                                model[AllocationKey(network: "net", containerID: container, ifName: request.ifName)] = request.pool
                            }
                        } catch let IPAMError.poolExhausted(pool, inUse, quarantined) {
                            // Exhaustion must be real: every usable, non-excluded address is taken or resting.
                            let usable = Self.usableCount(try #require(pools.first { $0.name == pool }))
                            #expect(inUse + quarantined == usable, "seed \(seed) step \(step): \(pool) claims exhaustion")
                        }
                    case 5..<7:
                        _ = try await service.release(containerID: container)
                        model = model.filter { $0.key.containerID != container }
                    case 7:
                        let valid = Set(model.keys.filter { _ in Bool.random(using: &random) })
                        _ = try await service.garbageCollect(network: "net", valid: valid)
                        model = model.filter { valid.contains($0.key) }
                    case 8:
                        // The leak sweep: the pods (UID = container here) found gone lose every lease.
                        let gone = Set(model.keys.map(\.containerID).filter { _ in Bool.random(using: &random) })
                        _ = try await service.release(podUIDs: gone)
                        model = model.filter { !gone.contains($0.key.containerID) }
                    default:
                        let before = service.current.snapshot(now: clock.now)
                        service = try IPAMService(directory: directory, quarantineSeconds: 5, compactionThreshold: 4096,
                                                  clock: { clock.now })
                        #expect(service.current.snapshot(now: clock.now) == before,
                                "seed \(seed) step \(step): restart changed the state")
                    }
                    try Self.check(service.current, model: model, pools: pools, seed: seed, step: step)
                }
            }
        }
    }

    static func usableCount(_ pool: PoolBlock) -> Int {
        let allocator = PoolAllocator(block: pool.podCIDR, excludes: pool.excludes)
        return (1...Int(allocator.lastUsable)).filter { !allocator.isExcluded(UInt128($0)) }.count
    }

    static func check(_ state: IPAMState, model: [AllocationKey: String], pools: [PoolBlock], seed: UInt64, step: Int) throws {
        #expect(Set(state.leases.keys) == Set(model.keys), "seed \(seed) step \(step): leases differ from the model")
        let addresses = state.leases.values.map(\.address)
        #expect(Set(addresses).count == addresses.count, "seed \(seed) step \(step): an address is held twice")
        for lease in state.leases.values {
            let pool = try #require(pools.first { $0.name == lease.pool })
            let allocator = PoolAllocator(block: pool.podCIDR, excludes: pool.excludes)
            let offset = try #require(allocator.offset(of: lease.address))
            #expect(offset >= 1 && offset <= allocator.lastUsable && !allocator.isExcluded(offset),
                    "seed \(seed) step \(step): \(lease.address) is not a usable address of \(pool.podCIDR)")
        }
    }
}
