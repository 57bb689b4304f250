import MultiNICCore
import MultiNICKube

/// Carries out a takeover on a cluster, step by step (``TakeoverRecord/Step``), recording each finished step so a
/// crashed or interrupted run resumes where it stopped; every step is idempotent. Rolls back from the record.
public struct TakeoverRunner: Sendable {
    public let client: KubeClient
    /// Where the record (ConfigMap `multinic-takeover`) lives: MultiNIC's namespace.
    public let namespace: String

    public init(client: KubeClient, namespace: String) {
        self.client = client
        self.namespace = namespace
    }

    /// Label on every object a takeover copied.
    public static let copiedLabel = ("multinic.net.cogadvisor.io/taken-over-from", "multinic.fms.io")

    /// Runs the steps not done yet for `networks` (every network of the original when nil). Refuses while a
    /// conflict that would lose or duplicate an address concerns a chosen network. `stopAfter` ends the run after
    /// that step, as a crash there would (tests).
    public func apply(networks chosen: [String]? = nil, stopAfter: TakeoverRecord.Step? = nil,
                      progress: @Sendable (String) -> Void = { _ in }) async throws(TakeoverError) -> TakeoverRecord {
        var cluster = try await LegacyClusterReader.read(client)
        cluster.multinicNamespace = namespace
        let plan = TakeoverPlanner.plan(cluster)
        var record = try await loadRecord()
        if record?.rolledBack == true {
            throw .refused("this takeover was rolled back; delete ConfigMap \(namespace)/\(TakeoverRecord.name) to start again")
        }
        let selected = record?.networks ?? (chosen ?? plan.networks.map(\.name))
        if let chosen, let recorded = record?.networks, Set(chosen) != Set(recorded) {
            throw .refused("a takeover of \(recorded.joined(separator: ", ")) is under way; finish it before taking over other networks")
        }
        let unknown = Set(selected).subtracting(plan.networks.map(\.name))
        if record == nil, !unknown.isEmpty {
            throw .refused("no network \(unknown.sorted().joined(separator: ", ")) in the original's objects")
        }
        // A conflict of no network (the original's workloads) concerns every network.
        let blocking = plan.blocking.filter { $0.network.isEmpty || selected.contains($0.network) }
        if record?.done(.objectsCopied) != true, !blocking.isEmpty {
            throw .refused("\(blocking.count) conflict(s) would lose or duplicate an address (see `multinicctl takeover plan`): "
                           + blocking.map(\.message).joined(separator: "; "))
        }
        if record == nil {
            var fresh = TakeoverRecord(networks: selected, controller: plan.controller, daemon: plan.daemon)
            fresh.steps = [.recorded]
            try await save(fresh, creating: true)
            progress("recorded the takeover in ConfigMap \(namespace)/\(TakeoverRecord.name)")
            record = fresh
            if stopAfter == .recorded { return fresh }
        }
        guard var record else { throw .refused("no takeover record") }
        for step in TakeoverRecord.Step.allCases where step != .recorded && !record.done(step) {
            switch step {
            case .recorded: break
            case .controllerStopped: try await stopController(record.controller, progress: progress)
            case .objectsCopied: try await copy(plan: plan, cluster: cluster, networks: record.networks, progress: progress)
            case .daemonRetired: try await retireDaemon(record.daemon, progress: progress)
            }
            record.steps.append(step)
            try await save(record, creating: false)
            if step == stopAfter { return record }
        }
        return record
    }

    /// Puts the original back: its controller's replicas and its daemon on every node; marks the record rolled back.
    /// MultiNIC's copies stay (remove MultiNIC's operator first; its daemons keep the addresses they adopted).
    public func rollback(progress: @Sendable (String) -> Void = { _ in }) async throws(TakeoverError) -> TakeoverRecord {
        guard var record = try await loadRecord() else { throw .refused("no takeover record in \(namespace): nothing to roll back") }
        if let daemon = record.daemon, record.done(.daemonRetired) {
            // The retired key goes; a selector left empty goes too, so the DaemonSet is exactly as it was.
            let selector = try await nodeSelector(of: daemon).filter { $0.key != TakeoverRecord.retiredSelector.0 }
            try await patch(daemon, selector.isEmpty ? Self.nodeSelectorPatch(nil) : Self.nodeSelectorPatch(.null))
            progress("the original daemon \(daemon.namespace)/\(daemon.name) runs on its nodes again")
        }
        if let controller = record.controller, record.done(.controllerStopped) {
            try await patch(controller, .object(["spec": .object(["replicas": .integer(Int64(controller.replicas))])]))
            progress("the original controller \(controller.namespace)/\(controller.name) is back to \(controller.replicas) replica(s)")
        }
        record.rolledBack = true
        try await save(record, creating: false)
        return record
    }

    /// The record, when a takeover was started.
    public func loadRecord() async throws(TakeoverError) -> TakeoverRecord? {
        let body: [UInt8]
        do {
            body = try await client.call("GET", recordPath(named: true))
        } catch {
            guard error.code == 404 else { throw .api("reading ConfigMap \(namespace)/\(TakeoverRecord.name): \(error)") }
            return nil
        }
        guard let object = try? JSONValue.parse(String(decoding: body, as: UTF8.self)) else {
            throw .invalidObject("ConfigMap \(namespace)/\(TakeoverRecord.name) is not JSON")
        }
        return try TakeoverRecord(data: (object.objectValue?["data"]?.objectValue ?? [:]).compactMapValues(\.stringValue))
    }

    func recordPath(named: Bool) -> String {
        KubePaths.collection(apiVersion: "v1", plural: "configmaps", namespace: namespace) + (named ? "/" + TakeoverRecord.name : "")
    }

    func save(_ record: TakeoverRecord, creating: Bool) async throws(TakeoverError) {
        let data = JSONValue.object(record.data.mapValues { .string($0) })
        do {
            if creating {
                let object = JSONValue.object(["apiVersion": .string("v1"), "kind": .string("ConfigMap"), "data": data,
                                               "metadata": .object(["name": .string(TakeoverRecord.name), "namespace": .string(namespace)])])
                _ = try await client.call("POST", recordPath(named: false), body: Array(object.description.utf8))
            } else {
                _ = try await client.call("PATCH", recordPath(named: true), body: Array(JSONValue.object(["data": data]).description.utf8),
                                          contentType: KubeClient.PatchType.merge.rawValue)
            }
        } catch {
            throw .api("writing ConfigMap \(namespace)/\(TakeoverRecord.name): \(error)")
        }
    }

    func patch(_ workload: LegacyWorkload, _ body: JSONValue) async throws(TakeoverError) {
        let plural = workload.kind == "Deployment" ? "deployments" : "daemonsets"
        let path = KubePaths.collection(apiVersion: "apps/v1", plural: plural, namespace: workload.namespace) + "/" + KubePaths.escape(workload.name)
        do {
            _ = try await client.call("PATCH", path, body: Array(body.description.utf8), contentType: KubeClient.PatchType.merge.rawValue)
        } catch {
            // Gone already: nothing of it to stop or bring back.
            guard error.code == 404 else { throw .api("\(workload.kind) \(workload.namespace)/\(workload.name): \(error)") }
        }
    }

    /// A merge patch setting (or, with `null`, removing) the retired selector in a DaemonSet's pod template; with
    /// `nil`, removing the whole node selector.
    static func nodeSelectorPatch(_ value: JSONValue?) -> JSONValue {
        let selector = value.map { JSONValue.object([TakeoverRecord.retiredSelector.0: $0]) } ?? .null
        return .object(["spec": .object(["template": .object(["spec": .object(["nodeSelector": selector])])])])
    }

    /// The node selector of the workload's pod template now (empty when it is gone).
    func nodeSelector(of workload: LegacyWorkload) async throws(TakeoverError) -> [String: JSONValue] {
        let path = KubePaths.collection(apiVersion: "apps/v1", plural: "daemonsets", namespace: workload.namespace) + "/" + KubePaths.escape(workload.name)
        do {
            let object = try JSONValue.parse(String(decoding: try await client.call("GET", path), as: UTF8.self))
            return object.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue?["nodeSelector"]?.objectValue ?? [:]
        } catch let error as KubeError where error.code == 404 {
            return [:]
        } catch {
            throw .api("\(workload.kind) \(workload.namespace)/\(workload.name): \(error)")
        }
    }

    func stopController(_ controller: LegacyWorkload?, progress: @Sendable (String) -> Void) async throws(TakeoverError) {
        guard let controller else { return progress("no original controller found: nothing to stop") }
        try await patch(controller, .object(["spec": .object(["replicas": .integer(0)])]))
        progress("stopped the original controller \(controller.namespace)/\(controller.name)")
    }

    func retireDaemon(_ daemon: LegacyWorkload?, progress: @Sendable (String) -> Void) async throws(TakeoverError) {
        guard let daemon else { return progress("no original daemon found: nothing to retire") }
        try await patch(daemon, Self.nodeSelectorPatch(.string(TakeoverRecord.retiredSelector.1)))
        progress("retired the original daemon \(daemon.namespace)/\(daemon.name) from every node")
    }
}
