#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICHTTP
import MultiNICCore

/// Why a call to the local daemon failed.
public enum DaemonClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing answered on the socket (daemon down or restarting).
    case unreachable(socket: String, reason: String)
    /// The daemon answered with an error status and message.
    case rejected(status: Int, message: String)
    /// The answer was not what the API promises.
    case badAnswer(String)

    public var description: String {
        switch self {
        case .unreachable(let socket, let reason): "multi-nicd is not answering on \(socket): \(reason)"
        case .rejected(let status, let message): "multi-nicd refused (HTTP \(status)): \(message)"
        case .badAnswer(let reason): "unexpected answer from multi-nicd: \(reason)"
        }
    }

    /// The CNI error this becomes: an unreachable daemon is "try again later" (11).
    public var cniError: CNIError {
        switch self {
        case .unreachable: CNIError(CNIError.tryAgainLater, "multi-nicd unreachable", details: description)
        case .rejected(let status, _) where status == 409: CNIError(CNIError.tryAgainLater, description)
        case .rejected(let status, _) where status == 403: CNIError(CNIError.forbidden, description)
        case .rejected, .badAnswer: CNIError(CNIError.ioFailure, description)
        }
    }
}

/// HTTP over the daemon's unix socket with libcurl: one request per call, JSON in and out.
public struct DaemonClient: Sendable {
    public let socketPath: String
    public let timeoutSeconds: Int

    public init(socketPath: String = "/run/multinic/multi-nicd.sock", timeoutSeconds: Int = 30) {
        self.socketPath = socketPath
        self.timeoutSeconds = timeoutSeconds
    }

    /// POSTs `body` to `path` and decodes the answer.
    public func post<Request: Encodable, Response: Decodable>(_ path: String, _ body: Request,
                                                                as type: Response.Type) throws(DaemonClientError) -> Response {
        try send("POST", path, body, as: type)
    }

    /// PUTs `body` to `path` (e.g. the node's IPPools) and decodes the answer.
    public func put<Request: Encodable, Response: Decodable>(_ path: String, _ body: Request,
                                                               as type: Response.Type) throws(DaemonClientError) -> Response {
        try send("PUT", path, body, as: type)
    }

    private func send<Request: Encodable, Response: Decodable>(_ method: String, _ path: String, _ body: Request,
                                                                 as type: Response.Type) throws(DaemonClientError) -> Response {
        let payload: Data
        do {
            payload = try JSONEncoder().encode(body)
        } catch {
            throw .badAnswer("cannot encode the request: \(error)")
        }
        let (status, answer) = try perform(method: method, path: path, body: payload)
        return try decode(status: status, answer: answer, as: type)
    }

    /// GETs `path` and decodes the answer.
    public func get<Response: Decodable>(_ path: String, as type: Response.Type) throws(DaemonClientError) -> Response {
        let (status, answer) = try perform(method: "GET", path: path, body: nil)
        return try decode(status: status, answer: answer, as: type)
    }

    private func decode<Response: Decodable>(status: Int, answer: [UInt8], as type: Response.Type) throws(DaemonClientError) -> Response {
        guard (200..<300).contains(status) else {
            let message = (try? JSONDecoder().decode(DaemonErrorBody.self, from: Data(answer)))?.error
                ?? String(decoding: answer.prefix(300), as: UTF8.self)
            throw .rejected(status: status, message: message)
        }
        do {
            return try JSONDecoder().decode(type, from: Data(answer))
        } catch {
            throw .badAnswer("\(error)")
        }
    }

    private func perform(method: String, path: String, body: Data?) throws(DaemonClientError) -> (Int, [UInt8]) {
        let request = HTTPRequest(endpoint: .unixSocket(path: socketPath), method: method, path: path,
                                  headers: ["Content-Type: application/json"], body: body.map { Array($0) },
                                  timeoutSeconds: timeoutSeconds)
        do {
            return try CurlTransport.perform(request)
        } catch {
            throw .unreachable(socket: socketPath, reason: error.description)
        }
    }
}
