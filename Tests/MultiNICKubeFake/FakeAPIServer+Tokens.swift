import Foundation
import Hummingbird
import MultiNICCore

/// A token TokenRequest issued.
struct IssuedToken: Sendable {
    var user: String
    var audiences: [String]
    var expires: Date
}

extension FakeAPIServer {
    /// The API server's own audience: what a token is for when a review names no audience.
    public static let apiAudience = "https://kubernetes.default.svc.cluster.local"

    /// `POST …/serviceaccounts/<name>/token` (TokenRequest): the account must exist; the token carries the asked
    /// audiences (default: the API server's) and lives `expirationSeconds` (at least 600, default 3600).
    func issueToken(_ body: [String: JSONValue], namespace: String, account: String) -> Response {
        guard state.withLock({ $0.objects["api/v1/serviceaccounts|\(namespace)|\(account)"] }) != nil else {
            return Self.status(404, "NotFound", "serviceaccounts \"\(account)\" not found")
        }
        let spec = body["spec"]?.objectValue ?? [:]
        let audiences = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var lifetime = 3600
        if case .integer(let seconds)? = spec["expirationSeconds"] { lifetime = Int(clamping: seconds) }
        guard lifetime >= 600 else { return Self.status(422, "Invalid", "spec.expirationSeconds: may not specify a duration less than 10 minutes") }
        let token = "sa." + UUID().uuidString + UUID().uuidString
        let expires = Date().addingTimeInterval(Double(lifetime))
        state.withLock { $0.tokens[token] = IssuedToken(user: "system:serviceaccount:\(namespace):\(account)",
                                                         audiences: audiences.isEmpty ? [Self.apiAudience] : audiences, expires: expires) }
        return Self.json(.object([
            "apiVersion": .string("authentication.k8s.io/v1"), "kind": .string("TokenRequest"),
            "metadata": .object(["name": .string(account), "namespace": .string(namespace)]),
            "spec": .object(["audiences": .array(audiences.map(JSONValue.string)), "expirationSeconds": .integer(Int64(lifetime))]),
            "status": .object(["token": .string(token), "expirationTimestamp": .string(ISO8601DateFormatter().string(from: expires))]),
        ]), status: .created)
    }

    /// `POST /apis/authentication.k8s.io/v1/tokenreviews`: authenticated when the token is known, unexpired, and valid
    /// for at least one of the asked audiences (the API server's own when none are asked); `status.audiences` is that
    /// intersection.
    func review(_ body: [String: JSONValue]) -> Response {
        let spec = body["spec"]?.objectValue ?? [:]
        let token = spec["token"]?.stringValue ?? ""
        var asked = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if asked.isEmpty { asked = [Self.apiAudience] }
        let issued = state.withLock { $0.tokens[token] }
        var status: [String: JSONValue] = ["authenticated": .bool(false)]
        if let issued, issued.expires > Date() {
            let common = asked.filter { issued.audiences.contains($0) }
            if common.isEmpty {
                status["error"] = .string("token audiences \(issued.audiences) is invalid for the target audiences \(asked)")
            } else {
                status = ["authenticated": .bool(true), "user": .object(["username": .string(issued.user)]),
                          "audiences": .array(common.map(JSONValue.string))]
            }
        } else {
            status["error"] = .string("invalid bearer token")
        }
        return Self.json(.object(["apiVersion": .string("authentication.k8s.io/v1"), "kind": .string("TokenReview"),
                                  "metadata": .object([:]), "spec": .object(["audiences": .array(asked.map(JSONValue.string))]),
                                  "status": .object(status)]), status: .created)
    }

    /// Expires every issued token now (as if time had passed).
    public func expireTokens() { state.withLock { state in for key in state.tokens.keys { state.tokens[key]?.expires = .distantPast } } }

    /// How many tokens TokenRequest issued.
    public var issuedTokens: Int { state.withLock { $0.tokens.count } }
}
