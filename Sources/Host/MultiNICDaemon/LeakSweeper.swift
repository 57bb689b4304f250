import MultiNICCore

/// Lists the pods that exist on this node (the Kubernetes implementation arrives with the operator).
public protocol PodLister: Sendable {
    /// UIDs of the pods that currently exist on this node.
    func livePodUIDs() async throws -> Set<String>
}

extension DaemonServices {
    /// Releases leases whose pod no longer exists. A listing failure releases nothing: an address is never taken
    /// from a pod that might still be there.
    public func sweepLeaks(using lister: any PodLister) async throws(DaemonError) -> [IPAllocation] {
        let live: Set<String>
        do {
            live = try await lister.livePodUIDs()
        } catch {
            throw .failure("listing pods for the leak sweep failed (nothing released): \(error)")
        }
        do {
            let released = try await ipam.sweep(livePodUIDs: live)
            metrics.countReleases(released.count)
            return released.map(Self.allocation)
        } catch {
            throw DaemonError(error)
        }
    }

    /// Sweeps every `interval` until the task is cancelled.
    public func sweepPeriodically(using lister: any PodLister, every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await sweepLeaks(using: lister)
        }
    }
}
