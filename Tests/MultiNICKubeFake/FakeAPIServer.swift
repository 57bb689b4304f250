import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import MultiNICCore
import NIOCore
import Synchronization

/// An in-process API server that follows the Kubernetes API's conventions, for any kind: bearer token on every
/// request (or client certificates signed by a CA it trusts), resourceVersion on every write, 409 Conflict on a stale
/// update and AlreadyExists on a duplicate create, the status subresource separate from the spec, label and field
/// selectors, list pagination with `continue`, watches from a resourceVersion (with a BOOKMARK at the start) and 410
/// Gone when that version is older than what it keeps, finalizers, merge patches, pod logs set by the test, and
/// schema validation of every write (strict: an unknown field is refused, see `KubernetesSchemas`), and server-side
/// apply (see `serverSideApply`).
/// Lists are typed as kube-apiserver types them: `<Kind>List`, and no apiVersion/kind on items of built-in kinds.
public final class FakeAPIServer: Sendable {
    struct State {
        var objects: [String: JSONValue] = [:]
        var version = 100
        /// (resourceVersion, type, object, collection) of every change, oldest first; trimmed by `compact`.
        var events: [(Int, String, JSONValue, String)] = []
        var oldestWatchable = 100
        /// Object names whose next PUT answers 409, as if someone else had just written them.
        var conflictOnce: Set<String> = []
        var watchers: [UUID: AsyncStream<(Int, String, JSONValue, String)>.Continuation] = [:]
        /// Pod logs by "namespace/name".
        var logs: [String: String] = [:]
        /// Changes are not delivered to watches (see `unobserved`).
        var muted = false
        /// Service-account tokens issued by TokenRequest: token → (user, audiences, expiry).
        var tokens: [String: IssuedToken] = [:]
        /// Every watch ends at once, empty (see `closeWatchesAtOnce`).
        var closeWatchesAtOnce = false
        /// Server-side apply: the configuration each field manager last applied, by object key and manager.
        var applied: [String: [String: JSONValue]] = [:]
    }

    /// PEM files for HTTPS; with `clientCA` every client must present a certificate that CA signed.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// The bearer token every request must carry; nil when clients authenticate with certificates only.
    public let token: String?
    /// Every request line (`METHOD /path?query`), in order.
    public let log: RequestLog
    let state = Mutex(State())
    private let task: Mutex<Task<Void, any Error>?> = Mutex(nil)
    let port = Mutex(0)
    let scheme: String
    /// Every written object of a kind these know is checked against its schema (422 Invalid, nothing stored, when it
    /// does not match); nil checks nothing.
    let schemas: KubernetesSchemas?
    /// kube-apiserver's limit on a request body (3 MiB).
    public static let maxRequestBytes = 3 << 20
    /// etcd's default `--max-request-bytes` (1.5 MiB): a larger object cannot be stored.
    public static let maxObjectBytes = 3 << 19

    /// Listens on an ephemeral port of 127.0.0.1. By default every write is checked against the Kubernetes v1.32
    /// schemas and deploy/'s CRDs (`KubernetesSchemas.bundled`).
    public init(token: String? = "secret-token", tls: TLSFiles? = nil, schemas: KubernetesSchemas? = .bundled) async throws {
        self.token = token
        self.schemas = schemas
        scheme = tls == nil ? "http" : "https"
        let router = Router()
        let log = RequestLog()
        self.log = log
        router.add(middleware: TokenCheck(token: token, log: { line, agent in log.append(line, agent: agent) }))
        router.on("/**", method: .get) { [self] request, _ in try route(request, nil) }
        router.on("/**", method: .post) { [self] request, _ in try route(request, try await Self.body(request)) }
        router.on("/**", method: .put) { [self] request, _ in try route(request, try await Self.body(request)) }
        router.on("/**", method: .patch) { [self] request, _ in
            if request.headers[.contentType]?.contains("apply-patch") == true {
                let raw = try await request.body.collect(upTo: Self.maxRequestBytes)
                let query = request.uri.queryParameters
                return serverSideApply(String(buffer: raw), path: request.uri.path, manager: query.get("fieldManager").map { String($0) },
                                       force: query.get("force") == "true")
            }
            guard request.headers[.contentType]?.contains("json-patch") == true else { return try route(request, try await Self.body(request)) }
            let raw = try await request.body.collect(upTo: Self.maxRequestBytes)
            return jsonPatch((try? JSONValue.parse(String(buffer: raw)))?.arrayValue, path: request.uri.path)
        }
        router.on("/**", method: .delete) { [self] request, _ in try route(request, nil) }
        let ready = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "fake-api-server")
        quiet.logLevel = .critical
        var server = HTTPServerBuilder.http1()
        if let tls {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
            if let clientCA = tls.clientCA {
                // A server that verifies peers refuses a handshake without a client certificate.
                configuration.trustRoots = .file(clientCA)
                configuration.certificateVerification = .noHostnameVerification
            }
            server = try .tls(.http1(), tlsConfiguration: configuration)
        }
        let app = Application(router: router, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) }, logger: quiet)
        // No signal handlers: Hummingbird's defaults (SIGTERM, SIGINT) would make a signal to the test process stop every
        // in-test server at once, and leave those signals blocked on threads whose children then cannot be stopped.
        task.withLock { $0 = Task { try await app.runService(gracefulShutdownSignals: []) } }
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
        /// `status`, `log`, …
        var subresource: String?

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
            if parts.count > 2 { subresource = parts[2] }
        }

        func key(_ name: String) -> String { collection + "|" + (namespace ?? "") + "|" + name }
    }

    func route(_ request: Request, _ body: [String: JSONValue]?) throws -> Response {
        guard let target = Target(request.uri.path) else { return Self.status(404, "NotFound", "no such path") }
        switch (request.method, target.name) {
        case (.post, nil) where target.collection == "apis/authentication.k8s.io/v1/tokenreviews": return review(body ?? [:])
        case (.post, let name?) where target.collection == "api/v1/serviceaccounts" && target.subresource == "token":
            return issueToken(body ?? [:], namespace: target.namespace ?? "", account: name)
        case (.get, nil): return list(request, target)
        case (.post, nil): return create(body ?? [:], target)
        case (.get, let name?) where target.subresource == "log":
            return state.withLock { $0.logs[(target.namespace ?? "") + "/" + name] }.map { Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: $0))) }
                ?? Self.status(404, "NotFound", "no log for \(name)")
        case (.get, let name?): return object(target.key(name), name)
        case (.put, let name?): return replace(body ?? [:], target, name: name)
        case (.patch, let name?): return merge(body ?? [:], target, name: name)
        case (.delete, let name?): return remove(target, name)
        default: return Self.status(405, "MethodNotAllowed", "not supported here")
        }
    }

    /// `http://127.0.0.1:<port>` (or https).
    public var url: String { "\(scheme)://127.0.0.1:\(port.withLock { $0 })" }

    /// Writes a kubeconfig for this server (its token, context namespace `namespace`) to `path`, for the programs a
    /// test runs against it.
    public func writeKubeconfig(to path: String, namespace: String) throws {
        try """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters: [{name: fake, cluster: {server: "\(url)"}}]
            users: [{name: op, user: {token: \(token ?? "")}}]
            contexts: [{name: test, context: {cluster: fake, user: op, namespace: \(namespace)}}]
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Ends the open watches. The server itself keeps listening on its ephemeral port until the test process exits:
    /// cancelling a Hummingbird server while responses are in flight can drop a response writer unfinished, which
    /// NIO traps on (seen only when the suites run in parallel).
    public func stop() {
        closeWatches()
    }

    /// Forgets the change history up to now: watches from older versions get 410 Gone.
    public func compact() { state.withLock { $0.oldestWatchable = $0.version; $0.events = [] } }

    /// Runs `changes` without any watch seeing them, then forgets the history and ends the watches: a client that
    /// watches again from where it was gets 410 Gone and must list to learn what happened (as after a long
    /// disconnection).
    public func unobserved(_ changes: () async throws -> Void) async rethrows {
        state.withLock { $0.muted = true }
        defer {
            state.withLock { $0.muted = false }
            compact()
            closeWatches()
        }
        try await changes()
    }

    /// The next PUT of an object with this name answers 409, as if someone else had just written it.
    public func conflictOnce(_ name: String) { state.withLock { _ = $0.conflictOnce.insert(name) } }

    /// What `GET …/pods/<name>/log` answers from now on (the test plays the kubelet).
    public func setLog(namespace: String, pod: String, _ text: String) { state.withLock { $0.logs[namespace + "/" + pod] = text } }

    /// The stored objects of a collection (`api/v1/pods`, `apis/<group>/<version>/<plural>`), across namespaces.
    /// How many objects a collection holds (no copy: cheap enough to poll while the server is busy).
    public func count(_ collection: String) -> Int {
        state.withLock { state in state.objects.keys.reduce(0) { $0 + ($1.hasPrefix(collection + "|") ? 1 : 0) } }
    }

    public func objects(_ collection: String) -> [JSONValue] {
        state.withLock { state in state.objects.filter { $0.key.hasPrefix(collection + "|") }.sorted { $0.key < $1.key }.map(\.value) }
    }
}

/// Every request line the server saw.
public final class RequestLog: Sendable {
    private let lines = Mutex<[(line: String, agent: String)]>([])
    func append(_ line: String, agent: String = "") { lines.withLock { $0.append((line, agent)) } }
    /// Every line so far.
    public var all: [String] { lines.withLock { $0.map(\.line) } }
    /// The lines of requests whose User-Agent starts with `agent` (one program's calls).
    public func lines(agent: String) -> [String] { lines.withLock { $0.filter { $0.agent.hasPrefix(agent) }.map(\.line) } }
    /// How many requests so far.
    public var count: Int { lines.withLock { $0.count } }
}

/// 401 without the right bearer token (when one is required); logs every request.
struct TokenCheck: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String?
    let log: @Sendable (String, String) -> Void

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        log("\(request.method) \(request.uri)", request.headers[.userAgent] ?? "")
        guard token == nil || request.headers[.authorization] == "Bearer \(token ?? "")" else {
            return FakeAPIServer.status(401, "Unauthorized", "Unauthorized")
        }
        return try await next(request, context)
    }
}
