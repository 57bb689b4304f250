import MultiNICCore

/// The pods the cluster knows, as the leak sweep needs them: per node (a filtered list, never every pod of the
/// cluster — upstream #97) and one by name.
public protocol PodDirectory: Sendable {
    /// UIDs of the pods bound to `node`, read consistently (not from a cache that may lag).
    func podUIDs(onNode node: String) async throws -> Set<String>
    /// The UID of the pod that has this name now, or nil when there is none.
    func podUID(namespace: String, name: String) async throws -> String?
}

/// What one sweep of a node did, for the operator's log and metrics.
public enum LeakSweepOutcome: Sendable {
    /// The daemon released these addresses: their pods are gone.
    case released([IPAllocation])
    /// The sweep could not finish (the daemon's snapshot, the pod list or the release failed); nothing was released.
    case failed(String)
}

/// Finds leases whose pod is gone and has the node's daemon release them: snapshot the daemon's leases, then list
/// the node's pods, confirm each missing pod by name, and release within ``DaemonAPI/sweepWindowSeconds`` of the
/// snapshot (the daemon refuses later releases). A pod that exists — by UID, on any node — keeps its addresses; a
/// lease without a UID is swept only when it is keyed by pod (adopted from the original) and no pod of its name
/// exists; any failure releases nothing.
public struct LeakSweepReconciler: Reconciler {
    let fleet: any DaemonFleet
    let pods: any PodDirectory
    /// Time between two sweeps of a node (at most the window, so a leak lives at most about two periods).
    let period: Duration
    /// Told every release and every failure (node, outcome); a sweep that finds no leak says nothing.
    let onOutcome: @Sendable (String, LeakSweepOutcome) async -> Void

    public init(fleet: any DaemonFleet, pods: any PodDirectory, period: Duration = .seconds(60),
                onOutcome: @escaping @Sendable (String, LeakSweepOutcome) async -> Void = { _, _ in }) {
        self.fleet = fleet
        self.pods = pods
        self.period = min(period, .seconds(Int(DaemonAPI.sweepWindowSeconds)))
        self.onOutcome = onOutcome
    }

    public func reconcile(_ node: String) async -> ReconcileResult {
        let clock = ContinuousClock()
        let started = clock.now
        let snapshot: PodLeaseSnapshot
        do {
            snapshot = try await fleet.podLeases(node: node)
        } catch {
            await onOutcome(node, .failed("lease snapshot: \(error)"))
            return ReconcileLog.retry("leak sweep of \(node)", error, after: period)
        }
        let holders = snapshot.pods.filter { !$0.uid.isEmpty }
        // Holders without a UID but with a name: leases adopted from the original (keyed by pod). Judged by name
        // alone: gone only when no pod of that name exists anywhere; the daemon releases only pod-keyed leases.
        let named = snapshot.pods.filter { $0.uid.isEmpty && $0.podKeyed == true && !$0.namespace.isEmpty && !$0.name.isEmpty }
        guard !holders.isEmpty || !named.isEmpty else { return .requeue(after: period) }
        var gone: [String] = []
        var goneNames: [String] = []
        do {
            let live = holders.isEmpty ? [] : try await pods.podUIDs(onNode: node)
            for holder in holders where !live.contains(holder.uid) {
                // Not on this node's list: confirm by name before deciding (a lagging field index must not cost a
                // running pod its addresses).
                if try await pods.podUID(namespace: holder.namespace, name: holder.name) != holder.uid { gone.append(holder.uid) }
            }
            for holder in named {
                if try await pods.podUID(namespace: holder.namespace, name: holder.name) == nil {
                    goneNames.append(holder.namespace + "/" + holder.name)
                }
            }
        } catch {
            await onOutcome(node, .failed("pods of the node: \(error)"))
            return ReconcileLog.retry("leak sweep of \(node)", error, after: period)
        }
        // Leave a margin for the daemon's clock: a decision that took too long is dropped, not acted on.
        guard !gone.isEmpty || !goneNames.isEmpty, clock.now - started < .seconds(Int(DaemonAPI.sweepWindowSeconds) / 2) else {
            return .requeue(after: period)
        }
        do {
            let request = PodReleaseRequest(snapshotTakenAt: snapshot.takenAt, podUIDs: gone, podNames: goneNames.isEmpty ? nil : goneNames)
            let released = try await fleet.releasePods(node: node, request)
            if !released.isEmpty { await onOutcome(node, .released(released)) }
        } catch {
            await onOutcome(node, .failed("release: \(error)"))
            return ReconcileLog.retry("leak sweep of \(node)", error, after: period)
        }
        return .requeue(after: period)
    }
}
