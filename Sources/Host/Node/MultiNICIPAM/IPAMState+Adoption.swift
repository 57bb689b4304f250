import MultiNICCore

/// An address a pod of the original Multi-NIC CNI holds, to be adopted into this node's journal when MultiNIC takes
/// the cluster over: keyed by the pod (``AllocationKey/isPodKeyed``) until its DEL.
public struct Adoption: Codable, Sendable, Hashable {
    /// The IPPool (on this host) the address belongs to.
    public var pool: String
    public var address: IPAddress
    public var namespace: String
    public var pod: String

    public init(pool: String, address: IPAddress, namespace: String, pod: String) {
        self.pool = pool
        self.address = address
        self.namespace = namespace
        self.pod = pod
    }

    /// What ``IPAMState/adopted`` records: one pool address, whoever held it.
    public var mark: String { "\(pool) \(address)" }
}

extension IPAMState {
    /// Adopts what is not adopted yet: a lease per address for its pod, keyed `(network, <namespace>/<pod>, NIC)`.
    /// Never takes an address another lease holds (that is reported, not adopted) and never adopts a mark twice.
    /// Returns the new leases, the marks now considered, and a sentence per refused adoption.
    public mutating func adopt(_ adoptions: [Adoption]) -> (leases: [Lease], marks: [String], refused: [String]) {
        var leases: [Lease] = []
        var marks: [String] = []
        var refused: [String] = []
        for adoption in adoptions.sorted(by: { ($0.pool, $0.address) < ($1.pool, $1.address) }) where !adopted.contains(adoption.mark) {
            guard let pool = pools[adoption.pool], let offset = allocators[adoption.pool]?.offset(of: adoption.address) else {
                refused.append("\(adoption.namespace)/\(adoption.pod) \(adoption.address): pool \(adoption.pool) does not hold it on this host")
                continue
            }
            marks.append(adoption.mark)
            adopted.insert(adoption.mark)
            let key = AllocationKey(network: pool.network, containerID: AllocationKey.podContainerID(namespace: adoption.namespace, name: adoption.pod),
                                    ifName: pool.interfaceName)
            if let holder = used[adoption.pool]?[offset] {
                if holder != key { refused.append("\(adoption.namespace)/\(adoption.pod) \(adoption.address): already held by \(holder)") }
                continue
            }
            if let existing = self.leases[key] {
                refused.append("\(adoption.namespace)/\(adoption.pod) \(adoption.address): the pod already holds \(existing.address) on \(pool.interfaceName)")
                continue
            }
            let lease = Lease(key: key, pod: PodRef(namespace: adoption.namespace, name: adoption.pod), pool: adoption.pool,
                              interfaceName: pool.interfaceName, address: adoption.address, prefixLength: pool.podPrefix)
            // A live pod holds it: whatever rest it was given is over.
            quarantine[adoption.pool]?[offset] = nil
            insert(lease, offset: offset)
            leases.append(lease)
        }
        return (leases, marks, refused)
    }

    /// Replays an adoption from the journal.
    mutating func restoreAdoption(leases: [Lease], marks: [String]) {
        adopted.formUnion(marks)
        for lease in leases {
            // As ``adopt(_:)`` did: the lease is inserted, the pool's cursor is left where it was.
            guard let offset = allocators[lease.pool]?.offset(of: lease.address) else {
                self.leases[lease.key] = lease
                continue
            }
            quarantine[lease.pool]?[offset] = nil
            insert(lease, offset: offset)
        }
    }
}
