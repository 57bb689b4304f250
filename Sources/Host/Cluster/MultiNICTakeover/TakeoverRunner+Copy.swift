import MultiNICCore
import MultiNICKube

extension TakeoverRunner {
    /// Creates (or brings up to date) MultiNIC's copy of each chosen network: the MultiNicNetwork with its status, the
    /// CIDR exactly as the original computed it (MultiNIC's first compute continues it), every HostInterface, and each
    /// IPPool with its allocations and the adopt annotation its node's daemon adopts them from.
    func copy(plan: TakeoverPlan, cluster: LegacyCluster, networks: [String],
              progress: @Sendable (String) -> Void) async throws(TakeoverError) {
        do {
            for host in cluster.hosts.sorted(by: { $0.metadata.name < $1.metadata.name }) {
                _ = try await upsert(HostInterface(metadata: copiedMeta(host.metadata), spec: host.spec))
            }
            for name in networks {
                guard let network = cluster.networks.first(where: { $0.metadata.name == name }),
                      let networkPlan = plan.networks.first(where: { $0.name == name }) else { continue }
                _ = try await upsert(MultiNicNetwork(metadata: copiedMeta(network.metadata), spec: network.spec))
                // The status goes through its subresource (a create ignores it): what users and tools last saw.
                // MultiNIC's operator may write the network meanwhile (its finalizer): read again on a conflict.
                if let status = network.status {
                    try await retryingConflicts { () async throws(KubeError) in
                        var stored = try await client.get(MultiNicNetworkSpec.self, name: name, namespace: nil)
                        guard stored.status != status else { return }
                        stored.status = status
                        _ = try await client.replaceStatus(stored)
                    }
                }
                if let cidr = cluster.cidrs.first(where: { $0.metadata.name == name }) {
                    _ = try await upsert(CIDR(metadata: copiedMeta(cidr.metadata), spec: cidr.spec))
                }
                for pool in cluster.pools where pool.spec.netAttachDef == name {
                    var metadata = copiedMeta(pool.metadata)
                    metadata.labels = (metadata.labels ?? [:]).merging([IPPoolSpec.hostLabel: pool.spec.hostName,
                                                                        IPPoolSpec.networkLabel: name]) { _, new in new }
                    let adopted = networkPlan.pools.first { $0.name == pool.metadata.name }?.allocations ?? []
                    metadata.annotations = (metadata.annotations ?? [:]).merging(
                        [IPPoolSpec.adoptAnnotation: IPPoolSpec.adoptAnnotationValue(adopted)]) { _, new in new }
                    var spec = pool.spec
                    spec.allocations = adopted
                    _ = try await upsert(IPPool(metadata: metadata, spec: spec))
                }
                progress("copied network \(name): \(networkPlan.pools.count) pools, \(networkPlan.liveAddresses) live addresses to adopt")
            }
        } catch {
            throw .api("copying the original's objects: \(error)")
        }
    }

    /// The original's name, labels and annotations (not its finalizers, owners or server fields), plus the copied
    /// label.
    func copiedMeta(_ original: ObjectMeta) -> ObjectMeta {
        var labels = original.labels ?? [:]
        labels[Self.copiedLabel.0] = Self.copiedLabel.1
        var metadata = ObjectMeta(name: original.name, namespace: original.namespace, labels: labels)
        metadata.annotations = original.annotations?.filter { $0.key != "kubectl.kubernetes.io/last-applied-configuration" }
        return metadata
    }

    /// Runs `body` again (up to five times) while it fails with 409 Conflict: another writer — MultiNIC's operator
    /// adding its finalizer or status — changed the object between the read and the write.
    func retryingConflicts(_ body: () async throws(KubeError) -> Void) async throws(KubeError) {
        for attempt in 1...5 {
            do {
                return try await body()
            } catch {
                guard error.code == 409, attempt < 5 else { throw error }
                try? await Task.sleep(for: .milliseconds(20 * attempt))
            }
        }
    }

    /// Creates the object, or replaces the spec (and merges labels and annotations) of the one already there.
    func upsert<S: ResourceSpec>(_ object: Resource<S>) async throws(KubeError) -> Resource<S> {
        let created: Resource<S>?
        do {
            created = try await client.create(object)
        } catch {
            guard error.code == 409 else { throw error }
            created = nil
        }
        if let created { return created }
        var result: Resource<S>?
        try await retryingConflicts { () async throws(KubeError) in result = try await replaceExisting(object) }
        guard let result else { throw KubeError.decoding("\(S.kind) \(object.metadata.name): no answer to the replace") }
        return result
    }

    /// Replaces the spec (and merges labels and annotations) of the object already there.
    private func replaceExisting<S: ResourceSpec>(_ object: Resource<S>) async throws(KubeError) -> Resource<S> {
        var current = try await client.get(S.self, name: object.metadata.name, namespace: object.metadata.namespace)
        let labels = (current.metadata.labels ?? [:]).merging(object.metadata.labels ?? [:]) { _, new in new }
        let annotations = (current.metadata.annotations ?? [:]).merging(object.metadata.annotations ?? [:]) { _, new in new }
        guard current.spec != object.spec || current.metadata.labels != labels || current.metadata.annotations != annotations else {
            return current
        }
        current.spec = object.spec
        current.metadata.labels = labels
        current.metadata.annotations = annotations.isEmpty ? nil : annotations
        return try await client.replace(current)
    }
}
