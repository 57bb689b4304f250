import Foundation

/// The API server's `Status` object (errors and some delete answers).
public struct KubeStatus: Codable, Sendable, Hashable {
    public struct Cause: Codable, Sendable, Hashable {
        public var reason: String?
        public var message: String?
        public var field: String?
    }

    public struct Details: Codable, Sendable, Hashable {
        public var name: String?
        public var kind: String?
        public var causes: [Cause]?
    }

    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: Details?
}

/// Why a Kubernetes API call failed: the API's own answer (with its Status), or no answer at all.
public enum KubeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An HTTP error with the Status the server sent (404 NotFound, 409 Conflict/AlreadyExists, 410 Gone,
    /// 422 Invalid with causes, 429 TooManyRequests, 5xx).
    case api(code: Int, status: KubeStatus)
    /// No HTTP answer (connection, TLS).
    case transport(String)
    /// An answer that is not what the API promises.
    case decoding(String)
    /// The client's configuration cannot work (kubeconfig, in-cluster files).
    case configuration(String)

    public var description: String {
        switch self {
        case .api(let code, let status):
            var text = "HTTP \(code) \(status.reason ?? ""): \(status.message ?? "")"
            let causes = (status.details?.causes ?? []).map { "\($0.field ?? "?"): \($0.message ?? $0.reason ?? "")" }
            if !causes.isEmpty { text += " (" + causes.joined(separator: "; ") + ")" }
            return text
        case .transport(let reason): return "Kubernetes API unreachable: \(reason)"
        case .decoding(let reason): return "unexpected answer from the Kubernetes API: \(reason)"
        case .configuration(let reason): return "Kubernetes client configuration: \(reason)"
        }
    }

    /// The HTTP status, when the server answered.
    public var code: Int? {
        if case .api(let code, _) = self { return code }
        return nil
    }

    /// Worth retrying after a pause (429, 5xx, no answer).
    public var isTransient: Bool {
        switch self {
        case .api(let code, _): code == 429 || code >= 500
        case .transport: true
        case .decoding, .configuration: false
        }
    }

    /// Builds the error from an HTTP answer; a body that is not a Status still yields the code and text.
    static func from(code: Int, body: [UInt8]) -> KubeError {
        if let status = try? JSONDecoder().decode(KubeStatus.self, from: Data(body)), status.code != nil || status.reason != nil {
            return .api(code: code, status: status)
        }
        return .api(code: code, status: KubeStatus(status: "Failure", message: String(decoding: body.prefix(500), as: UTF8.self),
                                                   reason: nil, code: code))
    }
}
