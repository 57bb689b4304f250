import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube

/// The bearer token the operator presents to one node's daemon.
public protocol DaemonCredentials: Sendable {
    /// The token for `node` (nil: none).
    func token(for node: String) async throws(FleetError) -> String?
    /// The daemon refused the token: forget it so the next call gets a new one.
    func refused(node: String) async
}

/// One token for every daemon (the lab, standalone daemons).
public struct StaticDaemonToken: DaemonCredentials {
    let token: String?
    public init(_ token: String?) { self.token = token }
    public func token(for node: String) async throws(FleetError) -> String? { token }
    public func refused(node: String) async {}
}

/// A cluster: for each node, a token of the operator's own service account requested (TokenRequest) for the audience
/// `multi-nicd:<node>`, short-lived and renewed at 80 % of its life. A daemon accepts only its node's audience, so a
/// token seen on one node is worth nothing on another.
public actor ServiceAccountTokens: DaemonCredentials {
    let client: KubeClient
    let namespace: String
    let serviceAccount: String
    let lifetimeSeconds: Int
    private var cached: [String: (token: String, renewAt: Date)] = [:]

    /// `lifetimeSeconds` is at least 600 (the API's minimum).
    public init(client: KubeClient, namespace: String, serviceAccount: String, lifetimeSeconds: Int = 3600) {
        self.client = client
        self.namespace = namespace
        self.serviceAccount = serviceAccount
        self.lifetimeSeconds = max(600, lifetimeSeconds)
    }

    struct TokenRequest: Codable {
        struct Spec: Codable {
            var audiences: [String]
            var expirationSeconds: Int?
        }

        struct Status: Codable {
            var token: String
            var expirationTimestamp: String?
        }

        var apiVersion = "authentication.k8s.io/v1"
        var kind = "TokenRequest"
        var spec: Spec
        var status: Status?
    }

    public func token(for node: String) async throws(FleetError) -> String? {
        if let entry = cached[node], entry.renewAt > Date() { return entry.token }
        let request = TokenRequest(spec: .init(audiences: [DaemonAudience.of(node: node)], expirationSeconds: lifetimeSeconds))
        let path = KubePaths.collection(apiVersion: "v1", plural: "serviceaccounts", namespace: namespace) + "/" + serviceAccount + "/token"
        let issued: TokenRequest.Status
        do {
            let answer = try await client.call("POST", path, body: Array(try JSONEncoder().encode(request)))
            guard let status = try JSONDecoder().decode(TokenRequest.self, from: Data(answer)).status else {
                throw KubeError.decoding("TokenRequest without a status")
            }
            issued = status
        } catch {
            throw .unreachable(node: node, reason: "cannot get a token for the daemon of \(node): \(error)")
        }
        // Renew at 80 % of the life the API server granted (it may shorten or lengthen what was asked).
        var life = Double(lifetimeSeconds)
        if let stamp = issued.expirationTimestamp, let expiry = ISO8601DateFormatter().date(from: stamp) {
            life = max(60, expiry.timeIntervalSinceNow)
        }
        cached[node] = (issued.token, Date().addingTimeInterval(life * 0.8))
        return issued.token
    }

    public func refused(node: String) async { cached[node] = nil }
}
