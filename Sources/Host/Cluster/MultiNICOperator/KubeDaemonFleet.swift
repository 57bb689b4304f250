import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube
import MultiNICHTTP

/// The node daemons of a real cluster: found through the DaemonSet's pods (label selector, never an unfiltered
/// list of all pods), reached over TCP at the pod's IP (host network) and the Config's port — over TLS verified against
/// the operator's daemon CA when `trust` is set — with the node's bearer token from `credentials`.
public actor KubeDaemonFleet: DaemonFleet {
    let client: KubeClient
    let namespace: String
    let selector: String
    let port: Int
    let credentials: any DaemonCredentials
    let trust: DaemonTrust?
    /// node → pod IP, refreshed at most every `refresh`.
    private var endpoints: [String: String] = [:]
    private var refreshed = ContinuousClock.now - .seconds(3600)
    let refresh: Duration

    public init(client: KubeClient, namespace: String, selector: String = "app=multi-nicd", port: Int = 11000,
                credentials: any DaemonCredentials, trust: DaemonTrust? = nil, refresh: Duration = .seconds(5)) {
        self.client = client
        self.namespace = namespace
        self.selector = selector
        self.port = port
        self.credentials = credentials
        self.trust = trust
        self.refresh = refresh
    }

    /// One token for every daemon, plain HTTP (standalone daemons, tests).
    public init(client: KubeClient, namespace: String, selector: String = "app=multi-nicd", port: Int = 11000, token: String?,
                refresh: Duration = .seconds(5)) {
        self.init(client: client, namespace: namespace, selector: selector, port: port, credentials: StaticDaemonToken(token),
                  refresh: refresh)
    }

    /// Only what the fleet reads of a Pod.
    struct PodList: Decodable {
        struct Pod: Decodable {
            struct Spec: Decodable { var nodeName: String? }
            struct Status: Decodable {
                var podIP: String?
                var phase: String?
            }
            var spec: Spec?
            var status: Status?
        }
        var items: [Pod]
    }

    /// The list in flight, which concurrent callers share (one list however many reconcilers ask at once).
    private var refreshing: Task<[String: String]?, Never>?

    private func currentEndpoints() async -> [String: String] {
        guard ContinuousClock.now - refreshed > refresh else { return endpoints }
        if let refreshing { return await refreshing.value ?? endpoints }
        let path = KubePaths.collection(apiVersion: "v1", plural: "pods", namespace: namespace) + "?labelSelector=" + KubePaths.escape(selector)
        let task = Task { [client] () -> [String: String]? in
            guard let body = try? await client.call("GET", path), let pods = try? JSONDecoder().decode(PodList.self, from: Data(body)) else {
                return nil
            }
            var found: [String: String] = [:]
            for pod in pods.items where pod.status?.phase == "Running" {
                if let node = pod.spec?.nodeName, let address = pod.status?.podIP { found[node] = address }
            }
            return found
        }
        refreshing = task
        let found = await task.value
        refreshing = nil
        if let found {
            endpoints = found
            refreshed = ContinuousClock.now
        }
        return endpoints
    }

    public func nodes() async -> [String] { await currentEndpoints().keys.sorted() }

    private func call<Response: Decodable & Sendable>(_ node: String, _ method: String, _ path: String, body: (some Encodable)?,
                                                      as type: Response.Type) async throws(FleetError) -> Response {
        guard let address = await currentEndpoints()[node] else { throw .unreachable(node: node, reason: "no running multi-nicd pod") }
        let host = address.contains(":") ? "[\(address)]" : address
        let answer = try await send(node, host: host, method, path, body: body)
        if answer.status == 401 { await credentials.refused(node: node) }
        guard (200..<300).contains(answer.status) else {
            let message = (try? JSONDecoder().decode(DaemonErrorBody.self, from: Data(answer.body)))?.error
                ?? String(decoding: answer.body.prefix(300), as: UTF8.self)
            throw .rejected(node: node, status: answer.status, message: message)
        }
        guard let decoded = try? JSONDecoder().decode(type, from: Data(answer.body)) else {
            throw .rejected(node: node, status: answer.status, message: "unexpected answer")
        }
        return decoded
    }

    private func send(_ node: String, host: String, _ method: String, _ path: String, body: (some Encodable)?)
        async throws(FleetError) -> (status: Int, body: [UInt8])
    {
        var headers = ["Content-Type: application/json"]
        if let token = try await credentials.token(for: node) { headers.append("Authorization: Bearer \(token)") }
        let payload = body.flatMap { try? JSONEncoder().encode($0) }.map { Array($0) }
        var request: HTTPRequest
        if let trust {
            // The URL names the certificate's name; libcurl connects to the node's address.
            request = HTTPRequest(endpoint: .url("https://\(trust.serverName):\(port)"), method: method, path: path, headers: headers,
                                  body: payload, tls: .init(caFile: trust.caFile), timeoutSeconds: 120)
            request.connectTo = ["\(trust.serverName):\(port):\(host):\(port)"]
        } else {
            request = HTTPRequest(endpoint: .url("http://\(host):\(port)"), method: method, path: path, headers: headers, body: payload,
                                  timeoutSeconds: 120)
        }
        do {
            return try await CurlTransport.performDetached(request)
        } catch {
            throw .unreachable(node: node, reason: error.description)
        }
    }

    public func interfaces(node: String) async throws(FleetError) -> [InterfaceInfo] {
        try await call(node, "GET", DaemonAPI.interfacePath, body: nil as String?, as: [InterfaceInfo].self)
    }

    public func setPools(node: String, _ pools: [IPPool]) async throws(FleetError) {
        _ = try await call(node, "PUT", DaemonAPI.poolsPath, body: pools, as: DaemonStatus.self)
    }

    public func setRoutes(node: String, _ request: L3Request) async throws(FleetError) -> L3Response {
        try await call(node, "POST", DaemonAPI.addL3Path, body: request, as: L3Response.self)
    }

    public func deleteRoutes(node: String, network: String) async throws(FleetError) {
        _ = try await call(node, "POST", DaemonAPI.deleteL3Path, body: L3Request(name: network, subnet: "", routes: []), as: L3Response.self)
    }

    public func podLeases(node: String) async throws(FleetError) -> PodLeaseSnapshot {
        try await call(node, "GET", DaemonAPI.podLeasesPath, body: nil as String?, as: PodLeaseSnapshot.self)
    }

    public func releasePods(node: String, _ request: PodReleaseRequest) async throws(FleetError) -> [IPAllocation] {
        try await call(node, "POST", DaemonAPI.releasePodsPath, body: request, as: [IPAllocation].self)
    }
}
