import MultiNICCore
import MultiNICIPAM
import MultiNICNetlink
import MultiNICPluginHost

/// Why a daemon request failed, with the HTTP status it maps to (once, at the HTTP edge).
public enum DaemonError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Malformed or incomplete request (400).
    case badRequest(String)
    /// Missing or wrong bearer token on TCP (401).
    case unauthorized
    /// The pod's namespace may not use the network (403).
    case forbidden(String)
    /// The request body is larger than the listener accepts (413).
    case payloadTooLarge(String)
    /// The request body did not arrive in time (408).
    case requestTimeout(String)
    /// Unknown network, pool, NIC or policy (404).
    case notFound(String)
    /// The request cannot be satisfied now: pool exhausted, key in another pool (409).
    case conflict(String)
    /// Storage or kernel failure (500).
    case failure(String)
    /// Too busy now (503): the caller retries (CNI error 11, "try again later").
    case unavailable(String)

    public var status: Int {
        switch self {
        case .badRequest: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .requestTimeout: 408
        case .payloadTooLarge: 413
        case .notFound: 404
        case .conflict: 409
        case .failure: 500
        case .unavailable: 503
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let message), .forbidden(let message), .requestTimeout(let message), .payloadTooLarge(let message),
             .notFound(let message), .conflict(let message), .failure(let message), .unavailable(let message):
            message
        case .unauthorized: "missing or wrong bearer token: requests over TCP need Authorization: Bearer <token>"
        }
    }

    /// The daemon's view of an IPAM error.
    init(_ error: IPAMError) {
        switch error {
        case .unknownPool: self = .notFound(error.description)
        case .poolExhausted, .keyInOtherPool: self = .conflict(error.description)
        case .journal, .storage: self = .failure(error.description)
        }
    }

    init(_ error: PluginHostError) {
        self = .notFound(error.description)
    }

    init(_ error: NetlinkError) {
        self = .failure(error.description)
    }
}
