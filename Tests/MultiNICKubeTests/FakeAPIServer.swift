import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import MultiNICCore
import NIOCore
import Synchronization

/// An in-test API server for one cluster-scoped kind that follows the API's conventions: bearer token on every
/// request, resourceVersion on every write, 409 Conflict on a stale update and AlreadyExists on a duplicate
/// create, the status subresource separate from the spec, list pagination with `continue`, watches from a
/// resourceVersion (with a BOOKMARK at the start) and 410 Gone when that version is older than what it keeps.
final class FakeAPIServer: Sendable {
    struct State {
        var objects: [String: JSONValue] = [:]
        var version = 100
        /// (resourceVersion, type, object, collection) of every change, oldest first; trimmed by `compact`.
        var events: [(Int, String, JSONValue, String)] = []
        var oldestWatchable = 100
        /// Object names whose next PUT answers 409, as if someone else had just written them.
        var conflictOnce: Set<String> = []
        var watchers: [UUID: AsyncStream<(Int, String, JSONValue, String)>.Continuation] = [:]
    }

    let token: String
    let log: RequestLog
    let state = Mutex(State())
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)
    let port = Mutex(0)

    /// With `tls` (PEM certificate chain and key files) the server speaks HTTPS.
    init(token: String = "secret-token", tls: (certificate: String, key: String)? = nil) async throws {
        self.token = token
        scheme = tls == nil ? "http" : "https"
        let router = Router()
        let log = RequestLog()
        self.log = log
        router.add(middleware: TokenCheck(token: token, log: { line in log.append(line) }))
        router.on("/**", method: .get) { [self] request, _ in try route(request, nil) }
        router.on("/**", method: .post) { [self] request, _ in try route(request, try await Self.body(request)) }
        router.on("/**", method: .put) { [self] request, _ in try route(request, try await Self.body(request)) }
        router.on("/**", method: .patch) { [self] request, _ in try route(request, try await Self.body(request)) }
        router.on("/**", method: .delete) { [self] request, _ in try route(request, nil) }
        let ready = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "fake-api-server")
        quiet.logLevel = .critical
        var server = HTTPServerBuilder.http1()
        if let tls {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: configuration)
        }
        let app = Application(router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) }, logger: quiet)
        task.withLock { $0 = Task { try await app.runService() } }
        for await bound in ready.stream {
            port.withLock { $0 = bound }
            break
        }
    }

    /// `/api/v1/[namespaces/<ns>/]<plural>[/<name>[/status]]` or `/apis/<group>/<version>/…`.
    struct Target {
        var collection: String
        var namespace: String?
        var name: String?
        var status = false

        init?(_ path: String) {
            var parts = path.split(separator: "/").map(String.init)
            guard let first = parts.first else { return nil }
            let prefixLength = first == "api" ? 2 : 3
            guard parts.count > prefixLength else { return nil }
            let prefix = parts[..<prefixLength].joined(separator: "/")
            parts.removeFirst(prefixLength)
            if parts.first == "namespaces" && parts.count >= 3 {
                namespace = parts[1]
                parts.removeFirst(2)
            }
            collection = prefix + "/" + parts[0]
            if parts.count > 1 { name = parts[1] }
            status = parts.count > 2 && parts[2] == "status"
        }

        func key(_ name: String) -> String { collection + "|" + (namespace ?? "") + "|" + name }
    }

    func route(_ request: Request, _ body: [String: JSONValue]?) throws -> Response {
        guard let target = Target(request.uri.path) else { return Self.status(404, "NotFound", "no such path") }
        switch (request.method, target.name) {
        case (.get, nil): return list(request, target)
        case (.post, nil): return create(body ?? [:], target)
        case (.get, let name?): return object(target.key(name), name)
        case (.put, let name?): return replace(body ?? [:], target, name: name)
        case (.patch, let name?): return merge(body ?? [:], target, name: name)
        case (.delete, let name?): return remove(target, name)
        default: return Self.status(405, "MethodNotAllowed", "not supported here")
        }
    }

    let scheme: String
    var url: String { "\(scheme)://127.0.0.1:\(port.withLock { $0 })" }

    /// Ends the open watches. The server itself keeps listening on its ephemeral port until the test process exits:
    /// cancelling a Hummingbird server while responses are in flight can drop a response writer unfinished, which
    /// NIO traps on (seen only when the suites run in parallel).
    func stop() {
        closeWatches()
    }

    /// Forgets the change history up to now: watches from older versions get 410 Gone.
    func compact() { state.withLock { $0.oldestWatchable = $0.version; $0.events = [] } }

    // MARK: - Handlers

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
        let selector = query.get("labelSelector").map { String($0) } ?? ""
        let prefix = target.collection + "|" + (target.namespace.map { $0 + "|" } ?? "")
        let (items, version): ([JSONValue], Int) = state.withLock { state in
            let matching = state.objects.keys.filter { $0.hasPrefix(prefix) }.sorted().compactMap { state.objects[$0] }
                .filter { Self.matches($0, selector) }
            return (matching, state.version)
        }
        let page = Array(items.dropFirst(start).prefix(limit))
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(version))]
        if start + limit < items.count { metadata["continue"] = .string(String(start + limit)) }
        return Self.json(.object(["kind": .string("List"), "apiVersion": .string("v1"), "metadata": .object(metadata),
                                  "items": .array(page)]))
    }

    static func matches(_ object: JSONValue, _ selector: String) -> Bool {
        let labels = object.objectValue?["metadata"]?.objectValue?["labels"]?.objectValue ?? [:]
        return selector.split(separator: ",").allSatisfy { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 && labels[parts[0]]?.stringValue == parts[1]
        }
    }

    func watch(_ request: Request, _ target: Target) -> Response {
        let from = request.uri.queryParameters.get("resourceVersion").flatMap { Int($0) } ?? 0
        let collection = target.collection
        let (stream, continuation) = AsyncStream<(Int, String, JSONValue, String)>.makeStream()
        let id = UUID()
        let (gone, backlog, current): (Bool, [(Int, String, JSONValue)], Int) = state.withLock { state in
            if from < state.oldestWatchable { return (true, [], state.version) }
            state.watchers[id] = continuation
            return (false, state.events.filter { $0.0 > from && $0.3 == collection }.map { ($0.0, $0.1, $0.2) }, state.version)
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
                    try await line("BOOKMARK", .object(["metadata": .object(["resourceVersion": .string(String(current))])]))
                    for (_, type, object) in backlog { try await line(type, object) }
                    for await (_, type, object, eventCollection) in stream where eventCollection == collection {
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

    /// Ends every open watch (as the server does at `timeoutSeconds`).
    func closeWatches() {
        state.withLock { state in
            for continuation in state.watchers.values { continuation.finish() }
            state.watchers = [:]
        }
    }

    private func record(_ state: inout State, _ type: String, _ object: JSONValue, _ target: Target) {
        state.events.append((state.version, type, object, target.collection))
        for continuation in state.watchers.values { continuation.yield((state.version, type, object, target.collection)) }
    }

    static func body(_ request: Request) async throws -> [String: JSONValue] {
        let buffer = try await request.body.collect(upTo: 1 << 20)
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
        return state.withLock { state in
            if state.objects[target.key(name)] != nil {
                return Self.status(409, "AlreadyExists", "\(target.collection) \"\(name)\" already exists")
            }
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
            if target.status {
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
            func apply(_ base: [String: JSONValue], _ patch: [String: JSONValue]) -> [String: JSONValue] {
                var result = base
                for (key, value) in patch {
                    if case .null = value { result[key] = nil }
                    else if let inner = value.objectValue { result[key] = .object(apply(result[key]?.objectValue ?? [:], inner)) }
                    else { result[key] = value }
                }
                return result
            }
            return store(apply(current, patch), target, name: name, state: &state)
        }
    }

    private func store(_ fields: [String: JSONValue], _ target: Target, name: String, state: inout State) -> Response {
        let metadata = fields["metadata"]?.objectValue ?? [:]
        if metadata["deletionTimestamp"] != nil && (metadata["finalizers"]?.arrayValue ?? []).isEmpty {
            // The last finalizer is gone: the object goes.
            state.objects[target.key(name)] = nil
            state.version += 1
            record(&state, "DELETED", .object(fields), target)
            return Self.json(.object(fields))
        }
        state.version += 1
        let version = state.version
        let stored = Self.withMetadata(fields) { $0["resourceVersion"] = .string(String(version)) }
        state.objects[target.key(name)] = stored
        record(&state, "MODIFIED", stored, target)
        return Self.json(stored)
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

/// Every request line the server saw.
final class RequestLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// 401 without the right bearer token; logs every request.
struct TokenCheck: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String
    let log: @Sendable (String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        log("\(request.method) \(request.uri)")
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return FakeAPIServer.status(401, "Unauthorized", "Unauthorized")
        }
        return try await next(request, context)
    }
}
