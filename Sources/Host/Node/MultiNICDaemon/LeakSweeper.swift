#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore
import MultiNICIPAM

extension DaemonServices {
    /// Seconds on the system's monotonic clock: comparable across daemon restarts, immune to wall-clock changes.
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// `GET /podleases`: the pods holding leases here, for the controller's leak sweep.
    public func podLeases() -> PodLeaseSnapshot {
        let takenAt = Self.monotonicSeconds()
        // A claim's leases count for the pod that holds the claim now, and for no pod once none does.
        let holders = claimBindings.all
        let byPod = Dictionary(grouping: ipam.current.leases.values.compactMap { lease -> Lease? in
            // A DRA claim's addresses belong to no pod: the kubelet's unprepare releases them.
            if lease.key.isResourceClaimKeyed { return nil }
            guard lease.key.isClaimKeyed else { return lease }
            guard let holder = holders[lease.key.containerID] else { return nil }
            var held = lease
            held.pod = holder.pod
            return held
        }) { $0.pod }
        let pods = byPod.map { pod, leases in
            PodLeases(namespace: pod.namespace, name: pod.name, uid: pod.uid, addresses: leases.map(\.address.description).sorted(),
                      podKeyed: leases.contains { $0.key.isPodKeyed } ? true : nil)
        }.sorted { ($0.namespace, $0.name, $0.uid) < ($1.namespace, $1.name, $1.uid) }
        return PodLeaseSnapshot(takenAt: takenAt, pods: pods)
    }

    /// `POST /releasepods`: releases the leases of pods the controller found gone. Refused when the snapshot the
    /// decision rests on is older than ``DaemonAPI/sweepWindowSeconds`` (or from the future: another boot).
    public func releasePods(_ podUIDs: [String], podNames: [String] = [], snapshotTakenAt: Double) async throws(DaemonError) -> [Lease] {
        let age = Self.monotonicSeconds() - snapshotTakenAt
        // `snapshotTakenAt` is a number from the request: compared as a Double, converted only once known to be small.
        guard age.isFinite, age >= 0, age <= DaemonAPI.sweepWindowSeconds else {
            let shown = CheckedNumber.integer(age, in: -1_000_000_000...1_000_000_000).map { "\($0) s old" } ?? "of no usable age"
            throw .conflict("the lease snapshot is \(shown) (at most \(Int(DaemonAPI.sweepWindowSeconds)) s): take a new one")
        }
        let uids = Set(podUIDs.filter { !$0.isEmpty })
        // Only `namespace/name` can match a pod-keyed lease; anything else names nothing.
        let names = Set(podNames.filter { AllocationKey(network: "", containerID: $0, ifName: "").isPodKeyed })
        guard !uids.isEmpty || !names.isEmpty else { return [] }
        var released: [Lease] = []
        if !uids.isEmpty {
            released += try await releasing { () async throws(IPAMError) -> [Lease] in try await self.ipam.release(podUIDs: uids) }
            // Their claims are free for the next pod; the addresses stay with the claims.
            releaseClaims(podUIDs: uids)
        }
        if !names.isEmpty {
            released += try await releasing { () async throws(IPAMError) -> [Lease] in try await self.ipam.release(podKeyedNames: names) }
        }
        return released
    }
}
