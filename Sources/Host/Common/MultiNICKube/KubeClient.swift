import Foundation
import MultiNICCore
import MultiNICHTTP
import Synchronization

/// A small Kubernetes API client over libcurl: typed calls for MultiNIC's kinds (and raw JSON for others),
/// list pagination, the status subresource, merge and JSON patches, watches as async streams, client-side rate
/// limiting, and errors that carry the API's Status.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    private let limiter: RateLimiter
    private let cachedToken = Mutex<(token: String, modified: Date?)?>(nil)

    /// The User-Agent sent (`<program>/multinic` unless told otherwise).
    let userAgent: String

    /// `qps` requests per second on average, bursts up to `burst`; `userAgent` replaces the program's name (a test
    /// that plays one program's part in-process).
    public init(config: KubeConfig, qps: Double = 20, burst: Int = 40, userAgent: String? = nil) {
        self.config = config
        limiter = RateLimiter(perSecond: qps, burst: burst)
        self.userAgent = userAgent ?? Self.defaultUserAgent
    }

    static let defaultUserAgent = ProcessInfo.processInfo.processName + "/multinic"

    /// The bearer token: the fixed one, or the token file's content, read again when the file changes.
    func bearerToken() -> String? {
        if let token = config.token { return token }
        guard let file = config.tokenFile else { return nil }
        let modified = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date
        if let cached = cachedToken.withLock({ $0 }), cached.modified == modified { return cached.token }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let token = text.trimmedWhitespace
        cachedToken.withLock { $0 = (token, modified) }
        return token
    }

    func request(_ method: String, _ path: String, body: [UInt8]?, contentType: String, timeout: Int) -> HTTPRequest {
        // The program's name, as client-go sends its binary's: audit logs (and tests) tell the callers apart.
        var headers = ["Accept: application/json", "User-Agent: \(userAgent)"]
        if body != nil { headers.append("Content-Type: \(contentType)") }
        if let token = bearerToken() { headers.append("Authorization: Bearer \(token)") }
        return HTTPRequest(endpoint: .url(config.server), method: method, path: path, headers: headers, body: body, tls: config.tls,
                           timeoutSeconds: timeout)
    }

    /// One call; the body of a 2xx answer, else the API's error.
    public func call(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
                     timeout: Int = 30) async throws(KubeError) -> [UInt8] {
        await limiter.acquire(RequestPriority.current)
        let prepared = request(method, path, body: body, contentType: contentType, timeout: timeout)
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await CurlTransport.performDetached(prepared)
        } catch {
            throw .transport(error.description)
        }
        guard (200..<300).contains(answer.status) else { throw KubeError.from(code: answer.status, body: answer.body) }
        return answer.body
    }

    // MARK: - Typed calls

    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], itemTypeMeta: ListItemTypeMeta? = nil) throws(KubeError) -> T {
        do {
            let decoder = JSONDecoder()
            if let itemTypeMeta { decoder.userInfo[.listItemTypeMeta] = itemTypeMeta }
            return try decoder.decode(type, from: Data(body))
        } catch {
            throw .decoding("\(T.self): \(error)")
        }
    }

    func encode(_ value: some Encodable) throws(KubeError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw .decoding("cannot encode: \(error)")
        }
    }

    /// The object at `path` as JSON (a kind MultiNIC does not model: a Pod, a ResourceClaim, an IPAMClaim); nil when
    /// the API answers 404.
    public func object(at path: String) async throws(KubeError) -> JSONValue? {
        do {
            let body = try await call("GET", path)
            return try? JSONValue.parse(String(decoding: body, as: UTF8.self))
        } catch .api(404, _) {
            return nil
        }
    }

    public func get<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(KubeError) -> Resource<S> {
        try decode(Resource<S>.self, try await call("GET", KubePaths.object(S.self, name: name, namespace: namespace)))
    }

    /// Every object (following `continue` across pages of `limit`), and the list's resourceVersion to watch from.
    /// `fromCache` (`resourceVersion=0`) lets the API server answer from its watch cache — cheap and indexed (pods by
    /// `spec.nodeName`), possibly a moment behind; otherwise the read is consistent. `apiVersion` reads another
    /// group/version the kind accepts (the original's `multinic.fms.io/v1`).
    public func list<S: ResourceSpec>(_ type: S.Type, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
                                      fromCache: Bool = false, limit: Int = 500,
                                      apiVersion: String? = nil) async throws(KubeError) -> (items: [Resource<S>], resourceVersion: String) {
        var items: [Resource<S>] = []
        var next: String?
        var version = ""
        repeat {
            var query = ["limit=\(limit)"]
            if let labelSelector, !labelSelector.isEmpty { query.append("labelSelector=" + KubePaths.escape(labelSelector)) }
            if let fieldSelector, !fieldSelector.isEmpty { query.append("fieldSelector=" + KubePaths.escape(fieldSelector)) }
            if fromCache { query.append("resourceVersion=0") }
            if let next { query.append("continue=" + KubePaths.escape(next)) }
            let collection = apiVersion.map { KubePaths.collection(apiVersion: $0, plural: S.plural, namespace: S.isNamespaced ? namespace : nil) }
                ?? KubePaths.collection(S.self, namespace: namespace)
            let body = try await call("GET", collection + "?" + query.joined(separator: "&"))
            let meta = try decode(ListEnvelope.self, body)
            // Items of built-in kinds come without apiVersion/kind: they take the list's (NodeList → Node), else S's.
            let inherited = ListItemTypeMeta(listAPIVersion: meta.apiVersion, listKind: meta.kind)
                ?? ListItemTypeMeta(apiVersion: apiVersion ?? S.apiVersion, kind: S.kind)
            let page = try decode(ResourceList<S>.self, body, itemTypeMeta: inherited)
            items += page.items
            version = meta.metadata?.resourceVersion ?? version
            next = meta.metadata?.continue.flatMap { $0.isEmpty ? nil : $0 }
        } while next != nil
        return (items, version)
    }

    public func create<S: ResourceSpec>(_ object: Resource<S>) async throws(KubeError) -> Resource<S> {
        try decode(Resource<S>.self, try await call("POST", KubePaths.collection(S.self, namespace: object.metadata.namespace),
                                                     body: try encode(object)))
    }

    /// PUT: a stale `metadata.resourceVersion` is a 409 Conflict.
    public func replace<S: ResourceSpec>(_ object: Resource<S>) async throws(KubeError) -> Resource<S> {
        try decode(Resource<S>.self, try await call("PUT", KubePaths.object(S.self, name: object.metadata.name, namespace: object.metadata.namespace),
                                                     body: try encode(object)))
    }

    /// PUT to the status subresource.
    public func replaceStatus<S: ResourceSpec>(_ object: Resource<S>) async throws(KubeError) -> Resource<S> {
        let path = KubePaths.object(S.self, name: object.metadata.name, namespace: object.metadata.namespace) + "/status"
        return try decode(Resource<S>.self, try await call("PUT", path, body: try encode(object)))
    }

    public enum PatchType: String, Sendable {
        case merge = "application/merge-patch+json"
        case json = "application/json-patch+json"
        /// Server-side apply (the path needs `fieldManager`).
        case apply = "application/apply-patch+yaml"
    }

    public func patch<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?, _ patch: JSONValue,
                                       as patchType: PatchType = .merge) async throws(KubeError) -> Resource<S> {
        try decode(Resource<S>.self, try await call("PATCH", KubePaths.object(S.self, name: name, namespace: namespace),
                                                     body: Array(patch.description.utf8), contentType: patchType.rawValue))
    }

    /// DELETE; the object as it remains when finalizers hold it (with its deletionTimestamp), else nil.
    @discardableResult
    public func delete<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) async throws(KubeError) -> Resource<S>? {
        let body = try await call("DELETE", KubePaths.object(S.self, name: name, namespace: namespace))
        guard let remaining = try? JSONDecoder().decode(Resource<S>.self, from: Data(body)),
              remaining.metadata.deletionTimestamp != nil, !(remaining.metadata.finalizers ?? []).isEmpty else { return nil }
        return remaining
    }
}

/// The `metadata` of a list (resourceVersion, continue).
struct ListEnvelope: Decodable {
    struct Meta: Decodable {
        var resourceVersion: String?
        var `continue`: String?
    }

    var apiVersion: String?
    var kind: String?
    var metadata: Meta?
}

/// A token bucket: `burst` requests at once, refilled at `perSecond`, with two lanes: a background request takes a
/// token only while no foreground request waits (see ``RequestPriority``).
actor RateLimiter {
    let perSecond: Double
    let burst: Double
    private var tokens: Double
    private var last = ContinuousClock.now
    /// Foreground requests waiting for a token.
    private var foregroundWaiting = 0
    /// Background requests waiting for a token.
    private var backgroundWaiting = 0

    init(perSecond: Double, burst: Int) {
        self.perSecond = max(0.1, perSecond)
        self.burst = Double(max(1, burst))
        tokens = Double(max(1, burst))
    }

    func acquire(_ priority: RequestPriority = .foreground) async {
        if priority == .foreground { foregroundWaiting += 1 } else { backgroundWaiting += 1 }
        defer { if priority == .foreground { foregroundWaiting -= 1 } else { backgroundWaiting -= 1 } }
        while true {
            let now = ContinuousClock.now
            let elapsed = now - last
            last = now
            tokens = min(burst, tokens + (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * perSecond)
            if tokens >= 1 && (priority == .foreground || foregroundWaiting == 0) {
                tokens -= 1
                return
            }
            try? await Task.sleep(for: .milliseconds(Int(max(1 - tokens, 0.05) / perSecond * 1000) + 1))
        }
    }

    /// Foreground requests now waiting (tests).
    var waitingForeground: Int { foregroundWaiting }
    /// Background requests now waiting (tests).
    var waitingBackground: Int { backgroundWaiting }
}
