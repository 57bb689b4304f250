import Foundation
import Hummingbird
import MultiNICCore
import MultiNICManifests

/// Server-side apply (`PATCH` with `application/apply-patch+yaml`), as far as one server needs it to be honest about
/// ownership: `fieldManager` is required; the object is created when absent; fields the same manager applied before
/// and leaves out now are removed; every applied field is set (maps merged key by key, lists replaced whole — the
/// atomic list strategy); a field another manager applied with a different value is a 409 conflict unless `force`;
/// an apply that changes nothing writes nothing (no new resourceVersion, no watch event). Status is never applied.
extension FakeAPIServer {
    func serverSideApply(_ text: String, path: String, manager: String?, force: Bool) -> Response {
        guard let target = Target(path), let name = target.name else { return Self.status(404, "NotFound", "no such path") }
        guard let manager, !manager.isEmpty else {
            return Self.status(400, "BadRequest", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        }
        guard let document = (try? ManifestLoader.parse(text, file: "apply"))?.first, var config = document.json.objectValue else {
            return Self.status(400, "BadRequest", "the apply patch is not one YAML or JSON object")
        }
        if let given = config["metadata"]?.objectValue?["name"]?.stringValue, given != name {
            return Self.status(400, "BadRequest", "the name of the object (\(given)) does not match the name on the URL (\(name))")
        }
        config["status"] = nil
        let key = target.key(name)
        return state.withLock { state in
            let owners = state.applied.filter { $0.key.hasPrefix(key + "|") && $0.key != key + "|" + manager }
            if !force {
                let conflicts = owners.flatMap { owner in
                    Self.leaves(config).filter { path, value in Self.leaves(owner.value)[path].map { $0 != value } ?? false }
                        .map { "conflict with \"\(owner.key.dropFirst(key.count + 1))\": \($0.key)" }
                }
                if !conflicts.isEmpty {
                    return Self.status(409, "Conflict", "Apply failed with \(conflicts.count) conflict(s): " + conflicts.sorted().joined(separator: ", "))
                }
            }
            guard let current = state.objects[key]?.objectValue else {
                let body = Self.withMetadata(config) { $0["name"] = .string(name) }.objectValue ?? config
                if let refused = invalid(body, target, name: name) { return refused }
                state.applied[key + "|" + manager] = config
                return insert(body, target, name: name, state: &state)
            }
            var merged = current
            let dropped = Set(Self.leaves(state.applied[key + "|" + manager] ?? [:]).keys).subtracting(Self.leaves(config).keys)
            for path in dropped where !path.hasPrefix(".metadata.name") && !path.hasPrefix(".metadata.namespace") {
                Self.remove(path.split(separator: ".").map(String.init), from: &merged)
            }
            merged = Self.mergePatch(config, into: merged)
            state.applied[key + "|" + manager] = config
            if merged == current { return Self.json(.object(current)) }
            return store(merged, target, name: name, state: &state)
        }
    }

    /// Every leaf of an object by its dotted path (lists are leaves: atomic).
    static func leaves(_ object: [String: JSONValue], prefix: String = "") -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (key, value) in object {
            if let inner = value.objectValue, !inner.isEmpty {
                result.merge(leaves(inner, prefix: prefix + "." + key)) { first, _ in first }
            } else {
                result[prefix + "." + key] = value
            }
        }
        return result
    }

    static func remove(_ path: [String], from object: inout [String: JSONValue]) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = nil
        } else if var inner = object[first]?.objectValue {
            remove(Array(path.dropFirst()), from: &inner)
            object[first] = inner.isEmpty ? nil : .object(inner)
        }
    }
}
