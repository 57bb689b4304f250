import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube
import MultiNICDaemonClient
import MultiNICHTTP

/// The node daemons of a real cluster: found through the DaemonSet's pods (label selector, never an unfiltered
/// list of all pods), reached over TCP at the pod's IP (host network) and the Config's port — over TLS verified against
/// the operator's daemon CA when `trust` is set — with the node's bearer token from `credentials`.
public actor KubeDaemonFleet: DaemonClientFleet {
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

    public func client(for node: String) async throws(FleetError) -> DaemonClient {
        guard let address = await currentEndpoints()[node] else { throw .unreachable(node: node, reason: "no running multi-nicd pod") }
        return DaemonClient(transport: DaemonTCPTransport(host: address, port: port, trust: trust), token: try await credentials.token(for: node),
                            timeoutSeconds: 120)
    }

    public func refused(node: String) async { await credentials.refused(node: node) }
}
