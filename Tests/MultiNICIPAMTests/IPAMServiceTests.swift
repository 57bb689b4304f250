import Foundation
import MultiNICCore
@testable import MultiNICIPAM
import Testing

/// A state directory that is removed afterwards.
func withStateDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-ipam-\(UUID())").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

func block(_ name: String, _ cidr: String, interface: String = "eth1", excludes: [String] = []) throws -> PoolBlock {
    PoolBlock(name: name, network: "net", interfaceName: interface, podCIDR: try #require(IPNetwork(cidr)), podPrefix: 18,
              excludes: excludes.compactMap { try? IPNetwork.parse($0, bareAddressAsHost: true).get() })
}

@Suite struct IPAMServiceTests {
    @Test func stateSurvivesARestart() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 100 })
            try await service.setPools([try block("a", "10.1.0.0/24"), try block("b", "10.2.0.0/24", interface: "eth2")])
            let leases = try await service.allocate(network: "net", containerID: "c1", pod: PodRef(name: "p", uid: "u"),
                                                    requests: [AllocationRequest(ifName: "net1-0", pool: "a"),
                                                               AllocationRequest(ifName: "net1-1", pool: "b")])
            _ = try await service.allocate(network: "net", containerID: "c2", pod: PodRef(),
                                           requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            let released = try await service.release(containerID: "c2")
            #expect(released.map(\.address.description) == ["10.1.0.2"])
            let before = service.current

            let reopened = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 110 })
            #expect(reopened.current == before)
            #expect(reopened.tornBytes == 0)
            #expect(reopened.current.leases.values.sorted { $0.key < $1.key } == leases)
            // The quarantine survived too: .2 is not handed out again within 30 s.
            let next = try await reopened.allocate(network: "net", containerID: "c3", pod: PodRef(),
                                                   requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            #expect(next[0].address.description == "10.1.0.3")
        }
    }

    @Test func aTornTailIsDroppedAndTheJournalStaysUsable() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, clock: { 0 })
            try await service.setPools([try block("a", "10.1.0.0/24")])
            _ = try await service.allocate(network: "net", containerID: "c1", pod: PodRef(),
                                           requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            let path = IPAMService.journalPath(in: directory)
            let good = try #require(FileManager.default.contents(atPath: path))
            // A crash in the middle of the next frame: its header promises more bytes than were written.
            let torn = try JournalFormat.frame(.released([AllocationKey(network: "net", containerID: "c1", ifName: "net1-0")], at: 1))
            try (good + Data(torn.prefix(torn.count - 5))).write(to: URL(fileURLWithPath: path))
            let reopened = try IPAMService(directory: directory, clock: { 2 })
            #expect(reopened.tornBytes == torn.count - 5)
            #expect(reopened.current.leases.count == 1, "the unacknowledged release is gone, the lease is not")
            _ = try await reopened.allocate(network: "net", containerID: "c2", pod: PodRef(),
                                            requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            // A flipped bit in the middle is caught by the checksum, and everything after it is cut off.
            var corrupt = try #require(FileManager.default.contents(atPath: path))
            corrupt[corrupt.count - 3] ^= 0x40
            try corrupt.write(to: URL(fileURLWithPath: path))
            let third = try IPAMService(directory: directory, clock: { 3 })
            #expect(third.tornBytes > 0)
            #expect(third.current.leases.keys.map(\.containerID) == ["c1"])
        }
    }

    @Test func compactionKeepsTheState() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, compactionThreshold: 2048, clock: { 0 })
            try await service.setPools([try block("a", "10.1.0.0/22")])
            for index in 0..<200 {
                _ = try await service.allocate(network: "net", containerID: "c\(index)", pod: PodRef(),
                                               requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
                if index % 3 == 0 { _ = try await service.release(containerID: "c\(index)") }
            }
            let size = try #require(try FileManager.default.attributesOfItem(atPath: IPAMService.journalPath(in: directory))[.size] as? Int)
            #expect(size < 40_000, "compacted: \(size) bytes")
            let reopened = try IPAMService(directory: directory, clock: { 0 })
            #expect(reopened.current == service.current)
        }
    }

    @Test func concurrentAllocationsGetDistinctAddresses() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, clock: { 0 })
            try await service.setPools([try block("a", "10.1.0.0/20"), try block("b", "fd00:1::/116", interface: "eth2")])
            let addresses = try await withThrowingTaskGroup(of: [String].self) { group in
                for task in 0..<16 {
                    group.addTask {
                        var mine: [String] = []
                        for index in stride(from: task, to: 1000, by: 16) {
                            let leases = try await service.allocate(
                                network: "net", containerID: "c\(index)", pod: PodRef(),
                                requests: [AllocationRequest(ifName: "net1-0", pool: "a"),
                                           AllocationRequest(ifName: "net1-1", pool: "b")])
                            mine += leases.map(\.address.description)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(addresses.count == 2000)
            #expect(Set(addresses).count == 2000)
            let reopened = try IPAMService(directory: directory, clock: { 0 })
            #expect(reopened.current.leases.count == 2000)
        }
    }
}

/// A pool with fewer than 2 usable addresses in the journal (written before the check, or by another version) is
/// skipped at replay with its reason; the daemon's state opens and the other pools serve.
@Suite struct IPAMUnusablePoolTests {
    @Test func aJournalWithA32PoolStillOpens() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, quarantineSeconds: 0, clock: { 100 })
            let tiny = PoolBlock(name: "tiny", network: "net", interfaceName: "eth1", podCIDR: try #require(IPNetwork("10.9.0.1/32")),
                                 podPrefix: 32)
            try await service.setPools([tiny, try block("ok", "10.1.0.0/24")])
            #expect(service.current.skippedPools["tiny"]?.contains("fewer than 2 usable") == true)
            #expect(service.current.usage(pool: "tiny", now: 100).capacity == 0)
            let journal = IPAMService.journalPath(in: directory)
            let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int
            try await service.setPools([tiny, try block("ok", "10.1.0.0/24")])
            #expect(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int == size, "the same pool set is not journaled again")
            await #expect(throws: IPAMError.self) {
                _ = try await service.allocate(network: "net", containerID: "c", pod: PodRef(),
                                               requests: [AllocationRequest(ifName: "net1-0", pool: "tiny")])
            }
            let reopened = try IPAMService(directory: directory, quarantineSeconds: 0, clock: { 110 })
            #expect(Array(reopened.current.pools.keys) == ["ok"])
            #expect(reopened.current.skippedPools.keys.sorted() == ["tiny"])
        }
    }

    @Test func aPoolAllocatorForA32NeverUnderflows() throws {
        let allocator = PoolAllocator(block: try #require(IPNetwork("10.9.0.1/32")), excludes: [])
        #expect(allocator.usableCount == 0)
        #expect(allocator.next(after: 0, isTaken: { _ in false }, takenCount: 0) == nil)
    }
}
