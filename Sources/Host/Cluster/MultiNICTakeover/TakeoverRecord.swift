import MultiNICCore

/// What `takeover apply` has done, kept in the cluster (ConfigMap `multinic-takeover`): a crashed or interrupted apply
/// resumes after its last finished step, and `takeover rollback` knows what to put back.
public struct TakeoverRecord: Sendable, Hashable {
    /// The steps of an apply, in order.
    public enum Step: String, Sendable, Hashable, CaseIterable {
        /// The record exists, with the original's workloads as they were.
        case recorded
        /// The original controller is scaled to 0 (it would rewrite NADs and flush route tables).
        case controllerStopped = "controller-stopped"
        /// MultiNIC's networks, CIDRs, HostInterfaces and IPPools (with allocations to adopt) exist.
        case objectsCopied = "objects-copied"
        /// The original daemon runs on no node any more.
        case daemonRetired = "daemon-retired"
    }

    public static let name = "multinic-takeover"
    /// The node selector that keeps the original DaemonSet's pods off every node (rollback removes it).
    public static let retiredSelector = ("multinic.net.cogadvisor.io/original-daemon", "retired")

    public var steps: [Step] = []
    public var networks: [String] = []
    public var controller: LegacyWorkload?
    public var daemon: LegacyWorkload?
    /// Set by a rollback.
    public var rolledBack = false

    public init(networks: [String] = [], controller: LegacyWorkload? = nil, daemon: LegacyWorkload? = nil) {
        self.networks = networks
        self.controller = controller
        self.daemon = daemon
    }

    public func done(_ step: Step) -> Bool { steps.contains(step) }

    /// The ConfigMap `data`.
    public var data: [String: String] {
        var data = ["steps": steps.map(\.rawValue).joined(separator: ","), "networks": networks.joined(separator: ",")]
        if let controller { data["controller"] = Self.json(controller) }
        if let daemon { data["daemon"] = Self.json(daemon) }
        if rolledBack { data["rolledBack"] = "true" }
        return data
    }

    /// From a ConfigMap's `data`; unknown steps are refused (a newer multinicctl wrote it).
    public init(data: [String: String]) throws(TakeoverError) {
        for text in (data["steps"] ?? "").split(separator: ",") {
            guard let step = Step(rawValue: String(text)) else {
                throw .invalidObject("ConfigMap \(Self.name): unknown step \(LogText.escaped(String(text), limit: 40))")
            }
            steps.append(step)
        }
        networks = (data["networks"] ?? "").split(separator: ",").map(String.init)
        controller = try data["controller"].map { text throws(TakeoverError) in try Self.workload(text) }
        daemon = try data["daemon"].map { text throws(TakeoverError) in try Self.workload(text) }
        rolledBack = data["rolledBack"] == "true"
    }

    static func json(_ workload: LegacyWorkload) -> String {
        var object: [String: JSONValue] = ["kind": .string(workload.kind), "namespace": .string(workload.namespace),
                                           "name": .string(workload.name), "replicas": .integer(Int64(workload.replicas))]
        if let port = workload.port { object["port"] = .integer(Int64(port)) }
        return JSONValue.object(object).description
    }

    static func workload(_ text: String) throws(TakeoverError) -> LegacyWorkload {
        guard let object = (try? JSONValue.parse(text))?.objectValue, let kind = object["kind"]?.stringValue,
              let namespace = object["namespace"]?.stringValue, let name = object["name"]?.stringValue,
              let replicas = object["replicas"]?.intValue else {
            throw .invalidObject("ConfigMap \(Self.name): a workload entry needs kind, namespace, name and replicas")
        }
        return LegacyWorkload(kind: kind, namespace: namespace, name: name, replicas: replicas, port: object["port"]?.intValue)
    }
}
