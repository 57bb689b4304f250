import MultiNICCore

/// A pod-keyed lease (adopted from the original Multi-NIC CNI) taken over by the container that holds it: from then on
/// it is an ordinary CNI lease, `(network, containerID, pod interface)`, which CNI GC and CHECK judge like any other.
public struct Rekey: Codable, Sendable, Hashable {
    public var from: AllocationKey
    public var to: AllocationKey

    public init(from: AllocationKey, to: AllocationKey) {
        self.from = from
        self.to = to
    }
}

extension IPAMState {
    /// The re-keys that hand `pod`'s pod-keyed leases on `network` to `containerID`: each lease whose address a pod
    /// interface of `claims` (interface name → address, from the container's CNI result) carries goes to that
    /// interface. A lease no claim names, or a target key already held, stays as it is.
    /// Nothing moves to a container ID that looks pod-keyed, or to a name that cannot be a Linux interface's.
    public func rekeys(network: String, pod: PodRef, containerID: String, claims: [String: String]) -> [Rekey] {
        guard !containerID.isEmpty, !AllocationKey(network: network, containerID: containerID, ifName: "").isPodKeyed else { return [] }
        let usable = claims.filter { LinuxInterfaceName.isValid($0.key) }
        let byAddress = Dictionary(usable.map { ($0.value, $0.key) }, uniquingKeysWith: { first, second in min(first, second) })
        return podKeyedKeys(network: network, pod: pod).compactMap { key in
            guard let lease = leases[key], let ifName = byAddress[lease.address.description] else { return nil }
            let target = AllocationKey(network: network, containerID: containerID, ifName: ifName)
            return leases[target] == nil ? Rekey(from: key, to: target) : nil
        }
    }

    /// Moves each lease to its new key; the address stays held throughout (no release, no quarantine).
    mutating func apply(_ rekeys: [Rekey]) {
        for rekey in rekeys {
            guard var lease = leases[rekey.from], leases[rekey.to] == nil else { continue }
            leases[rekey.from] = nil
            lease.key = rekey.to
            leases[rekey.to] = lease
            if let offset = allocators[lease.pool]?.offset(of: lease.address) { used[lease.pool, default: [:]][offset] = rekey.to }
        }
    }
}
