import Foundation
import MultiNICCore
@testable import MultiNICIPAM
import Testing

/// Addresses of a taken-over cluster's pods: adopted with their pool in one journal record, keyed by pod, never
/// handed out again while held, never brought back once released, and ignored by CNI GC.
@Suite struct IPAMAdoptionTests {
    static func adoption(_ pool: String, _ address: String, _ pod: String, namespace: String = "default") throws -> Adoption {
        Adoption(pool: pool, address: try #require(IPAddress(address)), namespace: namespace, pod: pod)
    }

    @Test func adoptedAddressesAreNeverHandedOutAndSurviveARestart() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 100 })
            let pools = [try block("a", "10.1.0.0/24"), try block("b", "10.2.0.0/24", interface: "eth2")]
            let refused = try await service.setPools(pools, adopting: [
                try Self.adoption("a", "10.1.0.1", "trainer-0"), try Self.adoption("b", "10.2.0.1", "trainer-0"),
                try Self.adoption("a", "10.1.0.2", "web-0", namespace: "team-a"),
            ])
            #expect(refused.isEmpty)
            let leases = service.current.leases.values.sorted { $0.key < $1.key }
            #expect(leases.map(\.key.description) == ["net/default/trainer-0/eth1", "net/default/trainer-0/eth2", "net/team-a/web-0/eth1"])
            #expect(leases.allSatisfy { $0.key.isPodKeyed })

            // New pods get other addresses: 1 and 2 are held.
            let fresh = try await service.allocate(network: "net", containerID: "c1", pod: PodRef(name: "new"),
                                                   requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            #expect(fresh.map(\.address.description) == ["10.1.0.3"])

            // CNI GC knows only containers: it never releases a pod-keyed lease.
            let collected = try await service.garbageCollect(network: "net", valid: [])
            #expect(collected.map(\.key.containerID) == ["c1"])

            let before = service.current
            let reopened = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 110 })
            #expect(reopened.current == before, "the adoption record replays to the same state")
            #expect(reopened.current.adopted.count == 3)
        }
    }

    @Test func aReleasedAdoptionIsNotBroughtBackByTheNextPush() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 100 })
            let pools = [try block("a", "10.1.0.0/24")]
            let adoptions = [try Self.adoption("a", "10.1.0.7", "trainer-0")]
            _ = try await service.setPools(pools, adopting: adoptions)
            let released = try await service.release(network: "net", pod: PodRef(namespace: "default", name: "trainer-0"))
            #expect(released.map(\.address.description) == ["10.1.0.7"])
            let again = try await service.release(network: "net", pod: PodRef(namespace: "default", name: "trainer-0"))
            #expect(again.isEmpty, "idempotent")

            // The operator pushes the same pool (with the same annotation) again, also after a restart.
            _ = try await service.setPools(pools, adopting: adoptions)
            #expect(service.current.leases.isEmpty)
            let reopened = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 110 })
            _ = try await reopened.setPools(pools, adopting: adoptions)
            #expect(reopened.current.leases.isEmpty)
            // And the released address rests in quarantine like any other.
            #expect(reopened.current.usage(pool: "a", now: 110).quarantined == 1)
        }
    }

    @Test func anAddressAnotherLeaseHoldsIsRefusedNotTaken() throws {
        var state = IPAMState(quarantineSeconds: 0)
        state.setPools([try block("a", "10.1.0.0/24")])
        let taken = try state.allocate(network: "net", containerID: "c1", pod: PodRef(name: "new"),
                                       requests: [AllocationRequest(ifName: "net1-0", pool: "a")], now: 1).leases
        let address = try #require(taken.first?.address.description)
        let (leases, marks, refused) = state.adopt([try Self.adoption("a", address, "old-0"), try Self.adoption("x", "10.9.0.1", "old-1"),
                                                    try Self.adoption("a", "10.1.9.9", "old-2")])
        #expect(leases.isEmpty && marks == ["a \(address)"])
        #expect(refused.count == 3 && refused[0].contains("already held by net/c1/net1-0") && refused.contains { $0.contains("pool x") })
        #expect(state.leases.count == 1)
    }

    @Test func theAdoptionRecordSurvivesCompaction() async throws {
        try await withStateDirectory { directory in
            let service = try IPAMService(directory: directory, quarantineSeconds: 30, compactionThreshold: 64, clock: { 100 })
            _ = try await service.setPools([try block("a", "10.1.0.0/24")], adopting: [try Self.adoption("a", "10.1.0.5", "p")])
            for index in 0..<20 {
                _ = try await service.allocate(network: "net", containerID: "c\(index)", pod: PodRef(),
                                               requests: [AllocationRequest(ifName: "net1-0", pool: "a")])
            }
            let reopened = try IPAMService(directory: directory, quarantineSeconds: 30, clock: { 100 })
            #expect(reopened.current.adopted == ["a 10.1.0.5"])
            #expect(reopened.current.leases.values.contains { $0.address.description == "10.1.0.5" && $0.key.isPodKeyed })
        }
    }
}
