import Logging
import MultiNICCore
import MultiNICIPAM

/// Log lines of the IPAMClaim keeper.
private let claimLog = Logger(label: "multi-nicd.ipamclaims")

/// Persistent addresses (IPAMClaim, NAD spec v1.3): a pod whose network selection element names
/// `ipam-claim-reference` gets the claim's addresses — the same on every NIC each time a pod of that claim starts on
/// this node — and they outlive the pod: DEL, CNI GC and the pod sweep leave them; the claim's deletion releases them.
extension DaemonServices {
    /// The claim an attach uses: its allocation key and the leases it already has on the network.
    struct ClaimUse {
        var namespace: String
        var name: String
        var key: String
        var existing: [Lease]
    }

    /// The pod's claim for this attach, checked against the claim object and bound to the container; nil without
    /// one (or without a claim source).
    func claimUse(_ query: NICQuery, containerID: String, ifName: String) async throws(DaemonError) -> ClaimUse? {
        guard let source = claimSource, !query.pod.name.isEmpty, !query.pod.namespace.isEmpty else { return nil }
        guard let name = try await source.claimReference(namespace: query.pod.namespace, pod: query.pod.name, network: query.network,
                                                         ifName: ifName) else { return nil }
        guard let claim = try await source.claim(namespace: query.pod.namespace, name: name) else {
            throw .notFound("IPAMClaim \(query.pod.namespace)/\(name), which the pod's network selection element names, does not exist")
        }
        guard claim.network.isEmpty || claim.network == query.network else {
            throw .badRequest("IPAMClaim \(query.pod.namespace)/\(name) is for network \(LogText.escaped(claim.network, limit: 80)), "
                + "not \(query.network)")
        }
        let key = AllocationKey.claimContainerID(namespace: query.pod.namespace, name: name)
        let existing = ipam.current.claimKeys(network: query.network, claim: key).compactMap { ipam.current.leases[$0] }
        if let stranger = existing.first(where: { !$0.key.belongs(toAttachment: ifName) }) {
            throw .badRequest("IPAMClaim \(query.pod.namespace)/\(name) holds \(stranger.key.ifName), not an interface of \(ifName)")
        }
        try claimBindings.bind(key, to: .init(containerID: containerID, pod: query.pod))
        return ClaimUse(namespace: query.pod.namespace, name: name, key: key,
                        existing: existing.sorted { $0.key.ifName.count == $1.key.ifName.count ? $0.key.ifName < $1.key.ifName
                                                                                           : $0.key.ifName.count < $1.key.ifName.count })
    }

    /// After a failed attach: the claim lets go of the container, and addresses made for a claim that had none go.
    func abandon(_ use: ClaimUse, network: String, containerID: String) async {
        _ = try? claimBindings.unbind { key, holder in key == use.key && holder.containerID == containerID }
        if use.existing.isEmpty {
            _ = try? await releasing { () async throws(IPAMError) -> [Lease] in
                try await self.ipam.release(containerID: use.key, network: network)
            }
        }
    }

    /// `status.ips` and `status.ownerPod` after an attach (a failure is logged: the pod has its addresses).
    func publishClaim(_ use: ClaimUse, leases: [Lease], pod: String) async {
        do throws(DaemonError) {
            try await claimSource?.writeStatus(namespace: use.namespace, name: use.name,
                                               ips: leases.map { $0.podAddress.description }, ownerPod: pod)
        } catch {
            claimLog.warning("IPAMClaim \(use.namespace)/\(use.name): \(error.description)")
        }
    }

    /// A DEL (or the sweep) ended these containers: their claims are free for the next pod, addresses kept.
    func releaseClaims(heldBy containerIDs: Set<String> = [], podUIDs: Set<String> = []) {
        _ = try? claimBindings.unbind { _, holder in
            containerIDs.contains(holder.containerID) || (!holder.pod.uid.isEmpty && podUIDs.contains(holder.pod.uid))
        }
    }

    /// Releases the addresses of claims that no longer exist (their owner, a VM, is gone); returns them. Claims the
    /// API cannot be asked about now are kept.
    @discardableResult
    public func sweepClaims() async -> [Lease] {
        guard let source = claimSource else { return [] }
        let keys = Set(ipam.current.leases.keys.filter(\.isClaimKeyed).map(\.containerID))
        var released: [Lease] = []
        for key in keys.sorted() {
            guard let (namespace, name) = AllocationKey.claim(ofContainerID: key) else { continue }
            do throws(DaemonError) {
                guard try await source.claim(namespace: namespace, name: name) == nil else { continue }
            } catch {
                continue
            }
            let gone = (try? await releasing { () async throws(IPAMError) -> [Lease] in try await self.ipam.release(containerID: key) }) ?? []
            _ = try? claimBindings.unbind { claim, _ in claim == key }
            claimLog.info("IPAMClaim \(namespace)/\(name) is gone: released \(gone.map(\.address.description).joined(separator: ", "))")
            released += gone
        }
        return released
    }
}
