import Logging
import MultiNICCloud
import MultiNICCore
import MultiNICIPAM
import MultiNICNetlink

/// Log lines of the cloud address keeper.
private let cloudLog = Logger(label: "multi-nicd.cloud")

/// Pools of a cloud network (aws-ipvlan): the cloud learns each address before the pod gets it and forgets it once
/// released.
extension DaemonServices {
    /// The cloud providers multi-nicd knows: `aws` (EC2, per ``DaemonConfiguration/aws``).
    static func cloudProviders(_ configuration: DaemonConfiguration) -> [String: any CloudAddressProvider] {
        ["aws": EC2Addresses(client: EC2Client(settings: configuration.aws))]
    }

    /// Whether a cloud API must hear of any of these leases.
    func anyFromCloudPools(_ leases: [Lease]) -> Bool {
        let pools = ipam.current.pools
        return leases.contains { pools[$0.pool]?.cloudProvider != nil }
    }

    /// (provider, MAC, addresses) of the leases from cloud pools, one group per NIC.
    func cloudGroups(_ leases: [Lease]) throws(DaemonError) -> [(provider: String, mac: String, addresses: [String])] {
        let pools = ipam.current.pools
        let cloudLeases = leases.filter { pools[$0.pool]?.cloudProvider != nil }
        guard !cloudLeases.isEmpty else { return [] }
        let links: [LinkInfo]
        do {
            links = try netlink.links()
        } catch {
            throw DaemonError(error)
        }
        var groups: [(provider: String, mac: String, addresses: [String])] = []
        for lease in cloudLeases {
            guard let provider = pools[lease.pool]?.cloudProvider else { continue }
            guard let mac = links.first(where: { $0.name == lease.interfaceName })?.macAddress else {
                throw .notFound("\(lease.interfaceName) is not on the host: its \(provider) interface cannot be found")
            }
            if let index = groups.firstIndex(where: { $0.provider == provider && $0.mac == mac }) {
                groups[index].addresses.append(lease.address.description)
            } else {
                groups.append((provider, mac, [lease.address.description]))
            }
        }
        return groups
    }

    /// Assigns freshly allocated leases; when that fails, releases them again (the pod gets nothing) and throws.
    func registerWithCloud(_ leases: [Lease]) async throws(DaemonError) {
        // Most networks have no cloud: their ADDs pay no thread hand-off here.
        guard anyFromCloudPools(leases) else { return }
        let outcome = await OSThread.result { [self] () throws(DaemonError) -> [(provider: String, mac: String, addresses: [String])] in
            let groups = try cloudGroups(leases)
            try cloud.assign(groups)
            return groups
        }
        if case .success(let groups) = outcome {
            for group in groups {
                cloudLog.info("assigned \(group.addresses.joined(separator: ", ")) to the \(group.provider) interface of \(group.mac)")
            }
            return
        }
        guard case .failure(let error) = outcome else { return }
        // The NICs assigned before the failing one are unassigned again (unassigning the others is a no-op).
        await unregisterFromCloud(leases)
        for lease in leases {
            _ = try? await ipam.release(containerID: lease.key.containerID, network: lease.key.network, ifName: lease.key.ifName)
        }
        cloudLog.warning("cloud assignment failed, \(leases.count) address(es) released again: \(error.description)")
        throw error
    }

    /// Unassigns released leases of cloud pools (on a thread of its own); failures wait for ``retryCloudUnassigns()``.
    func unregisterFromCloud(_ released: [Lease]) async {
        guard anyFromCloudPools(released) else { return }
        _ = await OSThread.result { [self] () throws(DaemonError) in
            let groups = try cloudGroups(released)
            let failures = cloud.unassign(groups)
            for message in failures { cloudLog.warning("\(message)") }
            if failures.isEmpty {
                for group in groups {
                    cloudLog.info("unassigned \(group.addresses.joined(separator: ", ")) from the \(group.provider) interface of \(group.mac)")
                }
            }
        }
    }

    /// Retries unassignments that failed before; returns how many still wait.
    @discardableResult
    public func retryCloudUnassigns() async -> Int {
        await OSThread.result { [self] () -> Int in
            cloud.retry { address in ipam.current.leases.values.contains { $0.address.description == address } }
        }.get()
    }
}
