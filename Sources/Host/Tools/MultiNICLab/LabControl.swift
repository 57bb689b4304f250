import Foundation
import MultiNICController
import MultiNICCore
import MultiNICPluginHost
import MultiNICRender

/// One controller pass over the lab: the reconcilers on the lab's file-backed embedded store, talking to the lab's
/// daemons, run until the network has converged (or visibly failed), printing each stage's progress.
enum LabControl {
    static func converge(_ record: LabRecord, network: MultiNicNetwork?, binaries: LabBinaries, timeout: Double = 90,
                         progress: @Sendable (String) -> Void) async throws(LabError) -> MultiNicNetworkStatus {
        let store: EmbeddedStore
        let registry: PluginRegistry
        do {
            store = try EmbeddedStore(directory: record.directory + "/store")
            let loaded = PluginRegistry.load(directory: binaries.plugins)
            for error in loaded.errors { progress("plugin not loaded: \(error)") }
            registry = loaded.registry
            _ = try await store.apply(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
            for host in record.hosts { _ = try await store.apply(ClusterNode(metadata: ObjectMeta(name: host.node), spec: NodeSpec())) }
            if let network {
                if var current = try await store.get(MultiNicNetworkSpec.self, name: network.name) {
                    current.spec = network.spec
                    _ = try await store.update(current)
                } else {
                    _ = try await store.create(network)
                }
            }
        } catch {
            throw LabError("controller store: \(error)")
        }
        let fleet = LabFleet(sockets: Dictionary(uniqueKeysWithValues: record.hosts.map { ($0.node, $0.socket) }))
        // DRA mode: the NADs name the driver's Multus resource (the daemons' slices carry the same).
        var config = ConfigSpec()
        if record.dra == true { config.daemon.draDriver = LabDRA.driver }
        let controller = MultiNICController(store: store, fleet: fleet, renderer: NetworkRenderer(registry: registry, config: config),
                                            hostPeriod: .seconds(2))
        let running = Task { await controller.run(workers: 4) }
        defer { running.cancel() }
        for host in record.hosts { await controller.daemonStarted(host.node) }
        var last = ""
        let deadline = Date().addingTimeInterval(timeout)
        var idleRounds = 0
        while Date() < deadline {
            try? await Task.sleep(for: .milliseconds(100))
            let (report, status, complete) = await snapshot(record, store: store, fleet: fleet)
            if report != last {
                progress(report)
                last = report
            }
            idleRounds = await controller.isIdle() ? idleRounds + 1 : 0
            if let status, complete, idleRounds >= 5, status.routeStatus != .waitForRoutes { return status }
        }
        throw LabError("the network did not converge within \(Int(timeout)) s; last state:\n\(last)")
    }

    /// The progress lines and whether every stage is done.
    private static func snapshot(_ record: LabRecord, store: EmbeddedStore,
                                 fleet: LabFleet) async -> (String, MultiNicNetworkStatus?, Bool) {
        let total = record.hosts.count
        let hostsWithInterfaces = ((try? await store.list(HostInterfaceSpec.self)) ?? []).filter { !$0.spec.interfaces.isEmpty }.count
        let network = try? await store.get(MultiNicNetworkSpec.self, name: record.network)
        let cidr = try? await store.get(CIDRSpec.self, name: record.network)
        let placed = cidr.map { RoutePlan.hosts($0.spec).count } ?? 0
        let pools = ((try? await store.list(IPPoolSpec.self, namespace: nil, labels: [IPPoolSpec.networkLabel: record.network])) ?? []).count
        var loaded = 0
        for host in record.hosts where (await fleet.status(node: host.node))?.pools.contains(where: { $0.network == record.network }) == true {
            loaded += 1
        }
        let nads = ((try? await store.list(NetworkAttachmentDefinitionSpec.self)) ?? []).filter { $0.metadata.name == record.network }
        let status = network?.status
        let blocks = (cidr?.spec.cidr ?? []).map { "\($0.netAddress): \($0.hosts.count)" }.joined(separator: ", ")
        let lines = [
            "  discovery  \(hostsWithInterfaces)/\(total) hosts reported their NICs",
            "  CIDR       \(placed)/\(total) hosts placed" + (blocks.isEmpty ? "" : " (\(blocks))"),
            "  IPPools    \(pools) written, \(loaded)/\(total) daemons loaded them",
            "  NAD        " + (nads.isEmpty ? "-" : nads.map { "\($0.metadata.namespace ?? "")/\($0.metadata.name)" }.joined(separator: " ")),
            "  routes     \(status?.routeStatus.rawValue ?? "-")" + ((status?.message ?? "").isEmpty ? "" : " — \(status?.message ?? "")"),
        ]
        let complete = hostsWithInterfaces == total && placed == total && loaded == total && !nads.isEmpty
            && status?.configStatus == .success
        if status?.configStatus == .failed { return (lines.joined(separator: "\n") + "\n  config     Failed: \(status?.message ?? "")", status, true) }
        return (lines.joined(separator: "\n"), status, complete)
    }

    /// The NAD config of the network in `default`, as Multus would pass it.
    static func attachmentConfig(_ record: LabRecord) async throws(LabError) -> String {
        do {
            let store = try EmbeddedStore(directory: record.directory + "/store")
            guard let nad = try await store.get(NetworkAttachmentDefinitionSpec.self, name: record.network, namespace: "default") else {
                throw LabError("no NetworkAttachmentDefinition default/\(record.network)")
            }
            return nad.spec.config
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError("controller store: \(error)")
        }
    }

    /// The network's status from the store.
    static func networkStatus(_ record: LabRecord) async -> MultiNicNetworkStatus? {
        guard let store = try? EmbeddedStore(directory: record.directory + "/store") else { return nil }
        return try? await store.get(MultiNicNetworkSpec.self, name: record.network)?.status
    }
}
