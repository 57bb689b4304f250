import Foundation
import Hummingbird
import MultiNICCore
import NIOCore

extension FakeAPIServer {

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: value.description)))
    }

    static func status(_ code: Int, _ reason: String, _ message: String) -> Response {
        json(.object(["kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]), "status": .string("Failure"),
                      "message": .string(message), "reason": .string(reason), "code": .integer(Int64(code))]),
             status: HTTPResponse.Status(code: code))
    }

    func list(_ request: Request, _ target: Target) -> Response {
        let query = request.uri.queryParameters
        if query.get("watch") == "1" { return watch(request, target) }
        let limit = query.get("limit").flatMap { Int($0) } ?? 500
        let start = query.get("continue").flatMap { Int($0) } ?? 0
        let labels = query.get("labelSelector").map { String($0) } ?? ""
        let fields = query.get("fieldSelector").map { String($0) } ?? ""
        let prefix = target.collection + "|" + (target.namespace.map { $0 + "|" } ?? "")
        let (items, version): ([JSONValue], Int) = state.withLock { state in
            let matching = state.objects.keys.filter { $0.hasPrefix(prefix) }.sorted().compactMap { state.objects[$0] }
                .filter { Self.matches($0, labels: labels, fields: fields) }
            return (matching, state.version)
        }
        var page = Array(items.dropFirst(start).prefix(limit))
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(version))]
        if start + limit < items.count { metadata["continue"] = .string(String(start + limit)) }
        // As kube-apiserver answers: `<Kind>List` of the collection's group/version, and items of built-in kinds
        // without apiVersion/kind (kubernetes/kubernetes#3030); custom resources keep theirs.
        let (groupVersion, kind) = Self.typeMeta(target.collection, items: items)
        if Self.isBuiltIn(target.collection) {
            page = page.map { item in
                guard var fields = item.objectValue else { return item }
                fields["apiVersion"] = nil
                fields["kind"] = nil
                return .object(fields)
            }
        }
        return Self.json(.object(["kind": .string(kind.map { $0 + "List" } ?? "List"), "apiVersion": .string(groupVersion),
                                  "metadata": .object(metadata), "items": .array(page)]))
    }

    /// Kinds kube-apiserver serves itself (core and built-in groups), as opposed to custom resources.
    static func isBuiltIn(_ collection: String) -> Bool {
        if collection.hasPrefix("api/v1/") { return true }
        let group = collection.split(separator: "/").dropFirst().first.map(String.init) ?? ""
        return ["apps", "batch", "coordination.k8s.io", "rbac.authorization.k8s.io", "authentication.k8s.io", "resource.k8s.io",
                "admissionregistration.k8s.io", "networking.k8s.io", "policy"].contains(group)
    }

    /// The collection's group/version, and its kind (from its items, else from the plural of a built-in kind).
    static func typeMeta(_ collection: String, items: [JSONValue]) -> (String, String?) {
        var parts = collection.split(separator: "/").map(String.init)
        let plural = parts.removeLast()
        let groupVersion = parts.dropFirst().joined(separator: "/")
        let builtIn = ["pods": "Pod", "nodes": "Node", "namespaces": "Namespace", "secrets": "Secret", "daemonsets": "DaemonSet",
                       "leases": "Lease", "serviceaccounts": "ServiceAccount", "configmaps": "ConfigMap", "events": "Event"]
        return (groupVersion, items.first?.objectValue?["kind"]?.stringValue ?? builtIn[plural])
    }

    /// `key=value`, `key==value`, `key!=value` terms joined by commas (label or field selectors); `value(key)` reads
    /// the label or the dotted field path.
    static func selects(_ selector: String, _ value: (String) -> String?) -> Bool {
        selector.split(separator: ",").allSatisfy { term in
            if let range = term.range(of: "!=") {
                return value(String(term[..<range.lowerBound])) != String(term[range.upperBound...])
            }
            let parts = term.replacingOccurrences(of: "==", with: "=").split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 && value(parts[0]) == parts[1]
        }
    }

    static func matches(_ object: JSONValue, labels: String, fields: String) -> Bool {
        let objectLabels = object.objectValue?["metadata"]?.objectValue?["labels"]?.objectValue ?? [:]
        return selects(labels) { objectLabels[$0]?.stringValue }
            && selects(fields) { path in
                var current: JSONValue? = object
                for component in path.split(separator: ".") { current = current?.objectValue?[String(component)] }
                return current?.stringValue ?? ""
            }
    }

    func watch(_ request: Request, _ target: Target) -> Response {
        let query = request.uri.queryParameters
        let from = query.get("resourceVersion").flatMap { Int($0) } ?? 0
        let collection = target.collection
        let labels = query.get("labelSelector").map { String($0) } ?? ""
        let fields = query.get("fieldSelector").map { String($0) } ?? ""
        let namespace = target.namespace
        // The collection, the namespace when the watch has one, and both selectors.
        let wanted: @Sendable (JSONValue, String) -> Bool = { object, eventCollection in
            eventCollection == collection && Self.matches(object, labels: labels, fields: fields)
                && (namespace == nil || object.objectValue?["metadata"]?.objectValue?["namespace"]?.stringValue == namespace)
        }
        if state.withLock({ $0.closeWatchesAtOnce }) {
            // A server (or a proxy) that ends every watch at once, with nothing in it.
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer()))
        }
        let (stream, continuation) = AsyncStream<(Int, String, JSONValue, String)>.makeStream()
        let id = UUID()
        let (gone, backlog, current): (Bool, [(Int, String, JSONValue)], Int) = state.withLock { state in
            if from < state.oldestWatchable { return (true, [], state.version) }
            state.watchers[id] = continuation
            return (false, state.events.filter { $0.0 > from && wanted($0.2, $0.3) }.map { ($0.0, $0.1, $0.2) }, state.version)
        }
        let body = ResponseBody { [self] writer in
            func line(_ type: String, _ object: JSONValue) async throws {
                try await writer.write(ByteBuffer(string: JSONValue.object(["type": .string(type), "object": object]).description + "\n"))
            }
            // The writer is always finished, also when the client went away mid-stream (NIO traps otherwise).
            do {
                if gone {
                    try await line("ERROR", .object(["kind": .string("Status"), "apiVersion": .string("v1"), "status": .string("Failure"),
                                                      "message": .string("too old resource version: \(from) (\(current))"),
                                                      "reason": .string("Expired"), "code": .integer(410)]))
                } else {
                    for (_, type, object) in backlog { try await line(type, object) }
                    try await line("BOOKMARK", .object(["metadata": .object(["resourceVersion": .string(String(current))])]))
                    for await (_, type, object, eventCollection) in stream where wanted(object, eventCollection) {
                        try await line(type, object)
                    }
                }
            } catch {
                // The client disconnected: end the watch.
            }
            self.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
            try? await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }

    /// From now on every watch ends at once with no events (`false` restores normal watches).
    public func closeWatchesAtOnce(_ enabled: Bool) { state.withLock { $0.closeWatchesAtOnce = enabled } }

    /// Ends every open watch (as the server does at `timeoutSeconds`).
    public func closeWatches() {
        state.withLock { state in
            for continuation in state.watchers.values { continuation.finish() }
            state.watchers = [:]
        }
    }

    private func record(_ state: inout State, _ type: String, _ object: JSONValue, _ target: Target) {
        guard !state.muted else { return }
        state.events.append((state.version, type, object, target.collection))
        for continuation in state.watchers.values { continuation.yield((state.version, type, object, target.collection)) }
    }

    static func body(_ request: Request) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: FakeAPIServer.maxRequestBytes)
        return (try? JSONValue.parse(String(buffer: buffer)))?.objectValue ?? [:]
    }

    static func withMetadata(_ object: [String: JSONValue], _ change: (inout [String: JSONValue]) -> Void) -> JSONValue {
        var object = object
        var metadata = object["metadata"]?.objectValue ?? [:]
        change(&metadata)
        object["metadata"] = .object(metadata)
        return .object(object)
    }

    func create(_ body: [String: JSONValue], _ target: Target) -> Response {
        guard let name = body["metadata"]?.objectValue?["name"]?.stringValue else {
            return Self.status(422, "Invalid", "metadata.name: Required value")
        }
        if let refused = invalid(body, target, name: name) { return refused }
        return state.withLock { state in
            if state.objects[target.key(name)] != nil {
                return Self.status(409, "AlreadyExists", "\(target.collection) \"\(name)\" already exists")
            }
            return insert(body, target, name: name, state: &state)
        }
    }

    /// Stores a new object (its status dropped): a resourceVersion, a uid, generation 1, the namespace of its path.
    func insert(_ body: [String: JSONValue], _ target: Target, name: String, state: inout State) -> Response {
        state.version += 1
        var fields = body
        fields["status"] = nil
        let version = state.version
        let stored = Self.withMetadata(fields) {
            $0["resourceVersion"] = .string(String(version))
            $0["uid"] = .string(UUID().uuidString.lowercased())
            $0["generation"] = .integer(1)
            if let namespace = target.namespace { $0["namespace"] = .string(namespace) }
        }
        state.objects[target.key(name)] = stored
        record(&state, "ADDED", stored, target)
        return Self.json(stored, status: .created)
    }

    func object(_ key: String, _ name: String) -> Response {
        guard let stored = state.withLock({ $0.objects[key] }) else {
            return Self.status(404, "NotFound", "\"\(name)\" not found")
        }
        return Self.json(stored)
    }

    func replace(_ body: [String: JSONValue], _ target: Target, name: String) -> Response {
        state.withLock { state in
            guard let current = state.objects[target.key(name)]?.objectValue else {
                return Self.status(404, "NotFound", "\"\(name)\" not found")
            }
            if state.conflictOnce.remove(name) != nil {
                return Self.status(409, "Conflict", "Operation cannot be fulfilled on \(target.collection) \"\(name)\": "
                                   + "the object has been modified; please apply your changes to the latest version and try again")
            }
            let given = body["metadata"]?.objectValue?["resourceVersion"]?.stringValue
            let actual = current["metadata"]?.objectValue?["resourceVersion"]?.stringValue
            if let given, given != actual {
                return Self.status(409, "Conflict", "Operation cannot be fulfilled on \(target.collection) \"\(name)\": "
                                   + "the object has been modified; please apply your changes to the latest version and try again")
            }
            var fields = current
            if target.subresource == "status" {
                fields["status"] = body["status"]
            } else {
                for (key, value) in body where !["metadata", "status", "apiVersion", "kind"].contains(key) { fields[key] = value }
                var metadata = fields["metadata"]?.objectValue ?? [:]
                for key in ["labels", "annotations", "finalizers", "ownerReferences"] { metadata[key] = body["metadata"]?.objectValue?[key] }
                fields["metadata"] = .object(metadata)
            }
            return store(fields, target, name: name, state: &state)
        }
    }

    /// JSON merge patch (RFC 7386) of the object.
    func merge(_ patch: [String: JSONValue], _ target: Target, name: String) -> Response {
        state.withLock { state in
            guard let current = state.objects[target.key(name)]?.objectValue else {
                return Self.status(404, "NotFound", "\"\(name)\" not found")
            }
            return store(Self.mergePatch(patch, into: current), target, name: name, state: &state)
        }
    }

    /// RFC 7386: maps merged key by key, `null` removes, anything else (lists too) replaces.
    static func mergePatch(_ patch: [String: JSONValue], into base: [String: JSONValue]) -> [String: JSONValue] {
        var result = base
        for (key, value) in patch {
            if case .null = value { result[key] = nil }
            else if let inner = value.objectValue { result[key] = .object(mergePatch(inner, into: result[key]?.objectValue ?? [:])) }
            else { result[key] = value }
        }
        return result
    }

    /// RFC 6902 patch of the object; a failed `test` or a bad path is 422 and changes nothing.
    func jsonPatch(_ operations: [JSONValue]?, path: String) -> Response {
        guard let target = Target(path), let name = target.name else { return Self.status(404, "NotFound", "no such path") }
        guard let operations else { return Self.status(400, "BadRequest", "a JSON patch is an array of operations") }
        return state.withLock { state in
            guard let current = state.objects[target.key(name)] else { return Self.status(404, "NotFound", "\"\(name)\" not found") }
            do throws(JSONPatch.Failure) {
                let patched = try JSONPatch.apply(operations, to: current)
                return store(patched.objectValue ?? [:], target, name: name, state: &state)
            } catch {
                return Self.status(422, "Invalid", "the server rejected our request due to an error in our request: \(error.message)")
            }
        }
    }

    /// Changes a stored object as a cluster component would (a kubelet writing a pod's status), without a request:
    /// the change gets a resourceVersion and reaches watches. False when there is no such object.
    @discardableResult
    public func modify(_ path: String, _ change: (inout [String: JSONValue]) -> Void) -> Bool {
        guard let target = Target(path), let name = target.name else { return false }
        return state.withLock { state in
            guard var fields = state.objects[target.key(name)]?.objectValue else { return false }
            change(&fields)
            _ = store(fields, target, name: name, state: &state)
            return true
        }
    }

    func store(_ fields: [String: JSONValue], _ target: Target, name: String, state: inout State) -> Response {
        let metadata = fields["metadata"]?.objectValue ?? [:]
        if metadata["deletionTimestamp"] != nil && (metadata["finalizers"]?.arrayValue ?? []).isEmpty {
            // The last finalizer is gone: the object goes.
            state.objects[target.key(name)] = nil
            state.version += 1
            record(&state, "DELETED", .object(fields), target)
            return Self.json(.object(fields))
        }
        if let refused = invalid(fields, target, name: name) { return refused }
        state.version += 1
        let version = state.version
        let stored = Self.withMetadata(fields) { $0["resourceVersion"] = .string(String(version)) }
        state.objects[target.key(name)] = stored
        record(&state, "MODIFIED", stored, target)
        return Self.json(stored)
    }

    /// 413 when the object would pass etcd's request limit; 422 Invalid naming every problem when it does not match
    /// its kind's schema; nil when it is fine (or the kind has no schema here). Objects written without apiVersion/kind
    /// are checked as their collection's kind.
    func invalid(_ fields: [String: JSONValue], _ target: Target, name: String) -> Response? {
        let size = JSONValue.object(fields).description.utf8.count
        if size > Self.maxObjectBytes {
            return Self.status(413, "RequestEntityTooLarge", "etcdserver: request is too large (\(size) bytes)")
        }
        guard let schemas else { return nil }
        var object = fields
        if object["apiVersion"] == nil || object["kind"] == nil, let known = schemas.kind(ofCollection: target.collection) {
            object["apiVersion"] = .string(known.apiVersion)
            object["kind"] = .string(known.kind)
        }
        guard let problems = schemas.problems(.object(object)), !problems.isEmpty else { return nil }
        let kind = object["kind"]?.stringValue ?? target.collection
        FileHandle.standardError.write(Data("FakeAPIServer: refused \(kind) \(name): \(problems.joined(separator: "; "))\n".utf8))
        return Self.status(422, "Invalid", "\(kind) \"\(name)\" is invalid: \(problems.joined(separator: ", "))")
    }

    func remove(_ target: Target, _ name: String) -> Response {
        state.withLock { state in
            guard let current = state.objects[target.key(name)] else {
                return Self.status(404, "NotFound", "\"\(name)\" not found")
            }
            let metadata = current.objectValue?["metadata"]?.objectValue ?? [:]
            if !(metadata["finalizers"]?.arrayValue ?? []).isEmpty {
                // Finalizers hold the object: it is only marked.
                guard metadata["deletionTimestamp"] == nil, let fields = current.objectValue else { return Self.json(current) }
                let marked = Self.withMetadata(fields) { $0["deletionTimestamp"] = .string("2026-11-29T00:00:00Z") }
                return store(marked.objectValue ?? [:], target, name: name, state: &state)
            }
            state.objects[target.key(name)] = nil
            state.version += 1
            record(&state, "DELETED", current, target)
            return Self.json(current)
        }
    }
}

