#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// Writes Kubernetes Events (`v1 Event`) about MultiNIC's objects, so `kubectl describe multinicnetwork/x` shows what
/// happened. Reconcilers record an event only when something changes (a condition flips), so each is a new object
/// named after its object and the time, as client-go names them. Failing to write one never fails a reconcile
/// (it is logged).
public struct EventRecorder: Sendable {
    /// `Normal` or `Warning`.
    public enum Kind: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    let store: any ResourceStore
    /// `source.component` and `reportingComponent`.
    public let component: String
    /// Events about cluster-scoped objects go here (as kube-apiserver's own do).
    public let namespace: String

    public init(store: any ResourceStore, component: String = "multi-nic-operator", namespace: String = "default") {
        self.store = store
        self.component = component
        self.namespace = namespace
    }

    /// Records one event about `object`.
    public func record<S: ResourceSpec>(_ object: Resource<S>, _ kind: Kind, reason: String, message: String) async {
        let event = Self.event(apiVersion: object.apiVersion, kind: S.kind, name: object.metadata.name,
                               uid: object.metadata.uid, objectNamespace: object.metadata.namespace,
                               namespace: object.metadata.namespace ?? namespace, type: kind, reason: reason, message: message, component: component,
                               now: Date())
        do {
            try await store.applyObject(event)
        } catch {
            ReconcileLog.failure("event \(reason) on \(S.kind) \(object.metadata.name)", error, retry: nil)
        }
    }

    /// The Event object, pure (`io.k8s.api.core.v1.Event`).
    public static func event(apiVersion: String, kind: String, name: String, uid: String?, objectNamespace: String?,
                      namespace: String, type: Kind,
                      reason: String, message: String, component: String, now: Date) -> JSONValue {
        let stamp = now.formatted(.iso8601)
        let text = String(message.prefix(1024))
        var involved: [String: JSONValue] = ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name)]
        if let uid { involved["uid"] = .string(uid) }
        if let objectNamespace { involved["namespace"] = .string(objectNamespace) }
        // As client-go names events: the object's name and the time in nanoseconds, in hex.
        let digest = String(UInt64(max(now.timeIntervalSince1970, 0) * 1e9), radix: 16)
        return .object([
            "apiVersion": .string("v1"), "kind": .string("Event"),
            "metadata": .object(["name": .string("\(name).\(digest)"), "namespace": .string(namespace)]),
            "involvedObject": .object(involved),
            "type": .string(type.rawValue), "reason": .string(reason), "message": .string(text),
            "source": .object(["component": .string(component)]),
            "reportingComponent": .string(component),
            "firstTimestamp": .string(stamp), "lastTimestamp": .string(stamp), "count": .integer(1),
        ])
    }
}
