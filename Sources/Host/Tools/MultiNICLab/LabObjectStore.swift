import Foundation
import MultiNICCore
import Synchronization

/// The lab's stand-in for the Kubernetes API in DRA mode: the daemons publish ResourceSlices to it and read (and
/// write the status of) ResourceClaims, through their real Kubernetes client. It keeps any kind under the API's
/// paths (`/apis/<group>/<version>/[namespaces/<ns>/]<plural>[/<name>[/status]]`, `/api/v1/…`) in memory with the
/// conventions those clients rely on: `resourceVersion` on every write and 409 Conflict for a stale one, 409
/// AlreadyExists on a second create, `status` written only through the status subresource, field and label
/// selectors on lists (equality, comma-separated), and Status objects for errors. No watches, no patches.
public final class LabObjectStore: Sendable {
    struct State {
        var objects: [String: JSONValue] = [:]
        var version = 1
    }

    private let state = Mutex(State())

    public init() {}

    /// One request: (HTTP status, body).
    public func handle(method: String, path: String, query: [String: String], body: [UInt8]?) -> (Int, JSONValue) {
        guard let target = Target(path: path) else { return Self.status(404, "NotFound", "no such path: \(path.prefix(200))") }
        switch (method, target.name) {
        case ("GET", nil): return list(target, query: query)
        case ("POST", nil): return create(target, body: body)
        case ("GET", let name?):
            return state.withLock { $0.objects[target.key(name)] }.map { (200, $0) } ?? Self.notFound(target, name)
        case ("PUT", let name?): return update(target, name: name, body: body)
        case ("DELETE", let name?):
            return state.withLock { $0.objects.removeValue(forKey: target.key(name)) }.map { (200, $0) } ?? Self.notFound(target, name)
        default: return Self.status(405, "MethodNotAllowed", "\(method) is not served on \(path.prefix(200))")
        }
    }

    /// Where a request points.
    struct Target {
        var collection: String
        var namespace: String?
        var name: String?
        var subresource: String?

        init?(path: String) {
            var parts = path.split(separator: "/").map(String.init)
            let prefix: Int
            if parts.first == "api", parts.count >= 3 { prefix = 2 } else if parts.first == "apis", parts.count >= 4 { prefix = 3 } else { return nil }
            let group = parts.prefix(prefix).joined(separator: "/")
            parts.removeFirst(prefix)
            if parts.first == "namespaces", parts.count >= 3 {
                namespace = parts[1]
                parts.removeFirst(2)
            }
            guard (1...3).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && !$0.contains("\u{0}") }) else { return nil }
            collection = group + "/" + parts[0]
            name = parts.count > 1 ? parts[1] : nil
            subresource = parts.count > 2 ? parts[2] : nil
            if let subresource, subresource != "status" { return nil }
        }

        func key(_ name: String) -> String { collection + "/" + (namespace ?? "") + "/" + name }
    }

    private func list(_ target: Target, query: [String: String]) -> (Int, JSONValue) {
        let fields = Self.selector(query["fieldSelector"]), labels = Self.selector(query["labelSelector"])
        let prefix = target.collection + "/" + (target.namespace.map { $0 + "/" } ?? "")
        return state.withLock { state in
            let items = state.objects.filter { $0.key.hasPrefix(prefix) }.sorted { $0.key < $1.key }.map(\.value).filter { object in
                fields.allSatisfy { Self.value(object, path: $0.key) == $0.value }
                    && labels.allSatisfy { object.objectValue?["metadata"]?.objectValue?["labels"]?.objectValue?[$0.key]?.stringValue == $0.value }
            }
            return (200, .object(["apiVersion": .string("v1"), "kind": .string("List"),
                                  "metadata": .object(["resourceVersion": .string(String(state.version))]), "items": .array(items)]))
        }
    }

    private func create(_ target: Target, body: [UInt8]?) -> (Int, JSONValue) {
        guard var object = Self.object(body), var metadata = object["metadata"]?.objectValue,
              let name = metadata["name"]?.stringValue, !name.isEmpty else {
            return Self.status(422, "Invalid", "metadata.name: required (the body must be a JSON object)")
        }
        return state.withLock { state in
            let key = target.key(name)
            guard state.objects[key] == nil else { return Self.status(409, "AlreadyExists", "\(target.collection) \"\(name)\" already exists") }
            state.version += 1
            metadata["uid"] = .string(UUID().uuidString.lowercased())
            metadata["resourceVersion"] = .string(String(state.version))
            metadata["generation"] = .integer(1)
            metadata["creationTimestamp"] = .string(ISO8601DateFormatter().string(from: Date()))
            if let namespace = target.namespace { metadata["namespace"] = .string(namespace) }
            object["metadata"] = .object(metadata)
            object["status"] = nil
            state.objects[key] = .object(object)
            return (201, .object(object))
        }
    }

    private func update(_ target: Target, name: String, body: [UInt8]?) -> (Int, JSONValue) {
        guard let sent = Self.object(body) else { return Self.status(422, "Invalid", "the body must be a JSON object") }
        return state.withLock { state in
            let key = target.key(name)
            guard case .object(var stored)? = state.objects[key], var metadata = stored["metadata"]?.objectValue else {
                return Self.notFound(target, name)
            }
            let wanted = sent["metadata"]?.objectValue?["resourceVersion"]?.stringValue ?? ""
            guard wanted.isEmpty || wanted == metadata["resourceVersion"]?.stringValue else {
                return Self.status(409, "Conflict", "Operation cannot be fulfilled on \(target.collection) \"\(name)\": "
                    + "the object has been modified; please apply your changes to the latest version and try again")
            }
            state.version += 1
            if target.subresource == "status" {
                stored["status"] = sent["status"]
            } else {
                let status = stored["status"]
                var kept = sent
                let generation = (metadata["generation"]?.intValue ?? 1) + (sent["spec"] == stored["spec"] ? 0 : 1)
                metadata["labels"] = sent["metadata"]?.objectValue?["labels"]
                metadata["annotations"] = sent["metadata"]?.objectValue?["annotations"]
                metadata["generation"] = .integer(Int64(generation))
                kept["status"] = status
                stored = kept
            }
            metadata["resourceVersion"] = .string(String(state.version))
            stored["metadata"] = .object(metadata)
            state.objects[key] = .object(stored)
            return (200, .object(stored))
        }
    }

    static func object(_ body: [UInt8]?) -> [String: JSONValue]? {
        body.flatMap { try? JSONValue.parse(String(decoding: $0, as: UTF8.self)) }?.objectValue
    }

    /// `a.b=c,d=e` → [a.b: c, d: e] (`==` too).
    static func selector(_ text: String?) -> [String: String] {
        var terms: [String: String] = [:]
        for term in (text ?? "").split(separator: ",") {
            let parts = term.replacingOccurrences(of: "==", with: "=").split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { terms[parts[0]] = parts[1] }
        }
        return terms
    }

    /// The string at a dotted path (`spec.nodeName`).
    static func value(_ object: JSONValue, path: String) -> String? {
        var current: JSONValue? = object
        for part in path.split(separator: ".") { current = current?.objectValue?[String(part)] }
        return current?.stringValue
    }

    static func notFound(_ target: Target, _ name: String) -> (Int, JSONValue) {
        status(404, "NotFound", "\(target.collection) \"\(name)\" not found")
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> (Int, JSONValue) {
        (code, .object(["apiVersion": .string("v1"), "kind": .string("Status"), "status": .string("Failure"),
                        "reason": .string(reason), "message": .string(message), "code": .integer(Int64(code))]))
    }
}
