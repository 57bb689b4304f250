import MultiNICCore
import MultiNICKube

/// Mirrors the node's allocations into the IPPool resources through the API (the daemon owns `spec.allocations` of
/// its own pools). Each write carries the resourceVersion just read; on 409 the pool is read again and the write
/// retried, so an operator update racing with it loses nothing. Runs after the coalescing publisher, never on the
/// allocation path. A pool the API does not have (yet) is skipped; its next change publishes it again.
public struct KubeAllocationMirror: AllocationMirror {
    let client: KubeClient
    let attempts: Int

    public init(client: KubeClient, attempts: Int = 5) {
        self.client = client
        self.attempts = attempts
    }

    public func publish(_ allocations: [String: [Allocation]]) async {
        for (pool, entries) in allocations.sorted(by: { $0.key < $1.key }) {
            _ = await write(pool: pool, entries)
        }
    }

    /// True when the pool now holds `entries`.
    func write(pool: String, _ entries: [Allocation]) async -> Bool {
        await client.modify(IPPoolSpec.self, name: pool, namespace: nil, attempts: attempts) { current in
            guard current.spec.allocations != entries else { return false }
            current.spec.allocations = entries
            return true
        }
    }
}
