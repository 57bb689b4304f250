import Foundation
import MultiNICCore
import MultiNICRender

/// MultiNicNetwork → NADs in every target namespace, the CIDR, and its pools in ``DesiredPools``; the nodes whose pools
/// or routes changed are handed to the pool and route reconcilers at once, and the IPPool objects to the background
/// mirror (``IPPoolMirrorReconciler``), so a network is usable on a node before its IPPools are written. The status is
/// written only when it changes. Deleting the network (finalizer) removes everything it created and its routes on
/// every node.
public struct NetworkReconciler: Reconciler {
    public static let finalizer = "net.cogadvisor.io/multinic-cleanup"

    let store: any ResourceStore
    let renderer: NetworkRenderer
    let fleet: any DaemonFleet
    let ledger: RouteLedger
    /// Nodes whose IPPools changed.
    let poolsChanged: @Sendable (Set<String>) async -> Void
    /// The pools every rendered network wants (read by the pool pushes and the mirror).
    let desiredPools: DesiredPools
    /// A network whose IPPool objects should be written.
    let mirror: @Sendable (String) async -> Void
    /// Nodes whose routes for this network may have changed.
    let routesChanged: @Sendable (Set<String>) async -> Void
    /// Periodic resync.
    let resync: Duration
    /// Events on the network when a condition changes.
    let events: EventRecorder
    /// Whether the original project still owns a network of the same name.
    let legacyOwners = LegacyOwnerMemo()

    public init(store: any ResourceStore, renderer: NetworkRenderer, fleet: any DaemonFleet, ledger: RouteLedger,
                resync: Duration = .seconds(600), desiredPools: DesiredPools, poolsChanged: @escaping @Sendable (Set<String>) async -> Void,
                routesChanged: @escaping @Sendable (Set<String>) async -> Void, mirror: @escaping @Sendable (String) async -> Void) {
        self.store = store
        self.desiredPools = desiredPools
        self.mirror = mirror
        self.renderer = renderer
        self.fleet = fleet
        self.ledger = ledger
        self.resync = resync
        self.poolsChanged = poolsChanged
        self.routesChanged = routesChanged
        events = EventRecorder(store: store)
    }

    public func reconcile(_ name: String) async -> ReconcileResult {
        do {
            guard var network = try await store.get(MultiNicNetworkSpec.self, name: name) else { return .done }
            let legacyController = try await legacyOwners.controller(managing: name, in: store)
            if network.metadata.deletionTimestamp != nil { return try await cleanUp(network, leftToOriginal: legacyController != nil) }
            if !(network.metadata.finalizers ?? []).contains(Self.finalizer) {
                network.metadata.finalizers = (network.metadata.finalizers ?? []) + [Self.finalizer]
                network = try await store.update(network)
            }
            if let legacyController {
                let message = LegacyOwner.message(network: name, controller: legacyController)
                try await writeStatus(network, failure: .ownedElsewhere(message), message: message,
                                      cidr: nil, hosts: try await store.list(HostInterfaceSpec.self))
                return .requeue(after: .seconds(30))
            }
            return try await converge(network)
        } catch .conflict {
            return .requeue(after: .milliseconds(50))
        } catch {
            return ReconcileLog.retry("network \(name)", error, after: .seconds(5))
        }
    }

    private func converge(_ network: MultiNicNetwork) async throws(StoreError) -> ReconcileResult {
        let hosts = try await store.list(HostInterfaceSpec.self)
        let namespaces = try await store.list(NamespaceSpec.self).map(\.metadata.name)
        let previous = try await store.get(CIDRSpec.self, name: network.name)
        let rendered: RenderedNetwork
        do {
            // Validated once, inside the renderer; everything after it reads the typed network.
            rendered = try renderer.render(network, hosts: hosts, clusterNamespaces: namespaces, previousCIDR: previous?.spec)
        } catch {
            if case .invalidNetwork = error {
                try await writeStatus(network, failure: .invalid(error.description), message: error.description,
                                      cidr: previous?.spec, hosts: hosts)
                return .done
            }
            try await writeStatus(network, failure: .renderFailed(error.description), message: error.description,
                                  cidr: previous?.spec, hosts: hosts)
            return ReconcileLog.retry("network \(network.name)", error, after: .seconds(30))
        }
        let owner = ownerReference(network)
        for attachment in rendered.attachments { try await store.apply(owned(attachment, by: owner)) }
        let targeted = Set(rendered.attachments.compactMap(\.metadata.namespace))
        for stale in try await store.list(NetworkAttachmentDefinitionSpec.self, namespace: nil,
                                           labels: [NetworkAttachmentDefinitionSpec.generatedLabel: "true"])
        where stale.metadata.name == network.name && !targeted.contains(stale.metadata.namespace ?? "") {
            try await store.delete(NetworkAttachmentDefinitionSpec.self, name: stale.metadata.name, namespace: stale.metadata.namespace)
        }
        try await applyDependents(rendered.dependents, network: network.name, owner: owner)
        var changedNodes: Set<String> = []
        if let cidr = rendered.cidr {
            try await store.apply(owned(cidr, by: owner))
            let pools = rendered.ippools.map { annotated(owned($0, by: owner), namespaces: network.spec.namespaces ?? []) }
            changedNodes = await desiredPools.set(network: network.name, pools: pools)
            // Routes depend only on the CIDR: push when it changed (the route reconciler also runs at daemon start),
            // and to hosts no push has answered — a CIDR this controller did not compute (a takeover's copy, kept as
            // it is) changes nothing, yet its hosts have never had MultiNIC's routes.
            if RoutePlan.needsRoutes(cidr.spec) {
                let hosts = RoutePlan.hosts(cidr.spec)
                let due = cidr.spec != previous?.spec ? hosts.union(previous.map { RoutePlan.hosts($0.spec) } ?? [])
                    : await ledger.unanswered(network: network.name, hosts: hosts)
                if !due.isEmpty { await routesChanged(due) }
            }
        }
        if !changedNodes.isEmpty { await poolsChanged(changedNodes) }
        if rendered.cidr != nil { await mirror(network.name) }
        let message = rendered.warnings.joined(separator: "; ")
        let routeStatus = try await writeStatus(network, failure: nil, message: message, cidr: rendered.cidr?.spec, hosts: hosts)
        ReconcileLog.success("network \(network.name)")
        return routeStatus == .waitForRoutes ? .requeue(after: .seconds(2)) : .requeue(after: resync)
    }

    /// Label on every dependent object, naming its network (stale ones are found by it).
    public static let networkLabel = "multinic.net.cogadvisor.io/network"

    /// Writes the backend's dependent objects (e.g. SR-IOV policy and network), owned by the network; deletes the
    /// network's earlier objects of those kinds that are no longer wanted.
    private func applyDependents(_ dependents: [DependentResource], network: String, owner: OwnerReference) async throws(StoreError) {
        var wanted: Set<String> = []
        var kinds: Set<[String]> = []
        for dependent in dependents {
            guard var object = dependent.object.objectValue, var metadata = object["metadata"]?.objectValue else { continue }
            var labels = metadata["labels"]?.objectValue ?? [:]
            labels[Self.networkLabel] = .string(network)
            metadata["labels"] = .object(labels)
            metadata["ownerReferences"] = .array([.object([
                "apiVersion": .string(owner.apiVersion), "kind": .string(owner.kind), "name": .string(owner.name),
                "uid": .string(owner.uid), "controller": .bool(true), "blockOwnerDeletion": .bool(true)])])
            object["metadata"] = .object(metadata)
            try await store.applyObject(.object(object))
            wanted.insert(dependent.reference.description)
            kinds.insert([dependent.reference.apiVersion, dependent.reference.kind])
        }
        for kind in kinds {
            for existing in try await store.listObjects(apiVersion: kind[0], kind: kind[1], labels: [Self.networkLabel: network]) {
                let metadata = existing.objectValue?["metadata"]?.objectValue
                let reference = ResourceReference(apiVersion: kind[0], kind: kind[1], namespace: metadata?["namespace"]?.stringValue,
                                                  name: metadata?["name"]?.stringValue ?? "")
                if !wanted.contains(reference.description) { try await store.deleteObject(reference) }
            }
        }
    }

    /// A pool carrying the network's `spec.namespaces` (``IPPoolSpec/namespacesAnnotation``), so the daemon refuses
    /// pods of other namespaces; pools that fail ``PoolBlock``'s checks never get this far (the CIDR engine makes none).
    private func annotated(_ pool: IPPool, namespaces: [String]) -> IPPool {
        var pool = pool
        var annotations = pool.metadata.annotations ?? [:]
        annotations[IPPoolSpec.namespacesAnnotation] = namespaces.isEmpty ? nil : namespaces.sorted().joined(separator: ",")
        pool.metadata.annotations = annotations.isEmpty ? nil : annotations
        return pool
    }

    /// Status from what was computed and what the route pushes answered; written only when something but the sync
    /// time differs. Returns the route status.
    @discardableResult
    private func writeStatus(_ network: MultiNicNetwork, failure: NetworkConditions.Failure?, message: String, cidr: CIDRSpec?,
                             hosts: [HostInterface]) async throws(StoreError) -> RouteStatus {
        let configStatus: ConfigStatus = failure == nil ? .success : .failed
        var routeStatus = RouteStatus.notApplicable
        var routeMessage: String?
        if let cidr, RoutePlan.needsRoutes(cidr) {
            (routeStatus, routeMessage) = await ledger.status(network: network.name, hosts: RoutePlan.hosts(cidr))
        }
        let results = (cidr?.cidr ?? []).sorted { $0.interfaceIndex < $1.interfaceIndex }
            .map { NetworkComputeResult(netAddress: $0.netAddress, numOfHosts: $0.hosts.count) }
        let discovery = DiscoveryStatus(existDaemon: await fleet.nodes().count,
                                        infoAvailable: hosts.filter { !$0.spec.interfaces.isEmpty }.count,
                                        cidrProcessed: cidr.map { RoutePlan.hosts($0).count } ?? 0)
        var status = MultiNicNetworkStatus(computeResults: results, discovery: discovery, configStatus: configStatus,
                                           routeStatus: routeStatus,
                                           message: [message, routeMessage ?? ""].filter { !$0.isEmpty }.joined(separator: "; "),
                                           lastSyncTime: network.status?.lastSyncTime)
        let now = Date().formatted(.iso8601)
        let desired = NetworkConditions.compute(failure: failure, routeStatus: routeStatus, routeMessage: routeMessage,
                                                generation: network.metadata.generation)
        status.conditions = Condition.merge(desired, previous: network.status?.conditions, now: now)
        guard status != network.status else { return routeStatus }
        status.lastSyncTime = now
        var updated = network
        updated.status = status
        _ = try await store.updateStatus(updated)
        await recordChanges(network, before: network.status?.conditions ?? [], after: status.conditions ?? [])
        return routeStatus
    }

    /// One event per condition whose status or reason changed: `Normal` when it became true, `Warning` when false.
    private func recordChanges(_ network: MultiNicNetwork, before: [Condition], after: [Condition]) async {
        for condition in after where condition.type != NetworkConditions.ready && condition.status != .unknown {
            let previous = before.first { $0.type == condition.type }
            guard previous?.status != condition.status || previous?.reason != condition.reason else { continue }
            await events.record(network, condition.status == .true ? .normal : .warning, reason: condition.reason,
                                message: condition.message)
        }
    }

    /// Removes what the network created, then its finalizer; `leftToOriginal` (``LegacyOwner``): MultiNIC created
    /// nothing, and the NADs, CIDR and routes of that name are the original's — only the finalizer goes.
    private func cleanUp(_ network: MultiNicNetwork, leftToOriginal: Bool) async throws(StoreError) -> ReconcileResult {
        var finished = network
        finished.metadata.finalizers = (network.metadata.finalizers ?? []).filter { $0 != Self.finalizer }
        if leftToOriginal {
            _ = try await store.update(finished)
            return .done
        }
        let cidr = try await store.get(CIDRSpec.self, name: network.name)
        for attachment in try await store.list(NetworkAttachmentDefinitionSpec.self, namespace: nil,
                                               labels: [NetworkAttachmentDefinitionSpec.generatedLabel: "true"])
        where attachment.metadata.name == network.name {
            try await store.delete(NetworkAttachmentDefinitionSpec.self, name: attachment.metadata.name,
                                   namespace: attachment.metadata.namespace)
        }
        let forgotten = await desiredPools.remove(network: network.name)
        let pools = try await store.list(IPPoolSpec.self, namespace: nil, labels: [IPPoolSpec.networkLabel: network.name])
        for pool in pools { try await store.delete(IPPoolSpec.self, name: pool.metadata.name, namespace: nil) }
        try await store.delete(CIDRSpec.self, name: network.name, namespace: nil)
        if let cidr, RoutePlan.needsRoutes(cidr.spec) {
            for node in RoutePlan.hosts(cidr.spec) {
                do {
                    try await fleet.deleteRoutes(node: node, network: network.name)
                } catch {
                    // A node whose daemon is gone has no routes to remove; one that fails is retried.
                    if case .rejected = error { return .requeue(after: .seconds(5)) }
                }
                await ledger.forget(network: network.name, node: node)
            }
        }
        await poolsChanged(Set(pools.map(\.spec.hostName)).union(forgotten))
        _ = try await store.update(finished)
        return .done
    }

    private func ownerReference(_ network: MultiNicNetwork) -> OwnerReference {
        OwnerReference(apiVersion: network.apiVersion, kind: network.kind, name: network.name, uid: network.metadata.uid ?? "",
                       controller: true, blockOwnerDeletion: true)
    }

    private func owned<S: ResourceSpec>(_ object: Resource<S>, by owner: OwnerReference) -> Resource<S> {
        var object = object
        object.metadata.ownerReferences = [owner]
        return object
    }
}
