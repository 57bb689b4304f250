#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import CCurl
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

    /// Collects the response body (libcurl calls back with chunks).
    private final class Sink {
        var bytes: [UInt8] = []
    }

    private func perform(method: String, path: String, body: Data?) throws(DaemonClientError) -> (Int, [UInt8]) {
        guard let handle = multinic_curl_easy_init() else { throw .unreachable(socket: socketPath, reason: "libcurl could not start") }
        defer { multinic_curl_easy_cleanup(handle) }
        let sink = Sink()
        var headers: UnsafeMutablePointer<curl_slist>? = multinic_curl_slist_append(nil, "Content-Type: application/json")
        headers = multinic_curl_slist_append(headers, "Expect:")
        defer { multinic_curl_slist_free_all(headers) }
        _ = multinic_curl_set_string(handle, CURLOPT_UNIX_SOCKET_PATH, socketPath)
        _ = multinic_curl_set_string(handle, CURLOPT_URL, "http://localhost" + path)
        _ = multinic_curl_set_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
        _ = multinic_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = multinic_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headers)
        _ = multinic_curl_set_pointer(handle, CURLOPT_WRITEDATA, Unmanaged.passUnretained(sink).toOpaque())
        _ = multinic_curl_set_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
            return length
        }
        let bodyBytes = body.map { Array($0) } ?? []
        let code: CURLcode = bodyBytes.withUnsafeBufferPointer { buffer in
            if method != "GET" {
                _ = multinic_curl_set_long(handle, CURLOPT_POST, 1)
                if method != "POST" { _ = multinic_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, method) }
                _ = multinic_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, buffer.count)
                _ = multinic_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            return multinic_curl_easy_perform(handle)
        }
        guard code == CURLE_OK else {
            throw .unreachable(socket: socketPath, reason: String(cString: multinic_curl_easy_strerror(code)))
        }
        var status = 0
        _ = multinic_curl_get_status(handle, &status)
        return (status, sink.bytes)
    }
}
