#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// How a ``DaemonClient`` reaches a daemon: one request, the status and the whole answer back, blocking.
/// The node's unix socket is ``UnixSocketDaemonTransport`` (no libcurl, for the CNI binaries); the operator's TCP/TLS
/// channel lives with libcurl in `MultiNICHTTP`.
public protocol DaemonTransport: Sendable, CustomStringConvertible {
    func exchange(method: String, path: String, headers: [String], body: [UInt8]?,
                  timeoutSeconds: Int) throws(DaemonClientError) -> (status: Int, body: [UInt8])
}

/// The daemon's root-only unix socket on the node.
public struct UnixSocketDaemonTransport: DaemonTransport {
    public let path: String

    public init(path: String) { self.path = path }

    public var description: String { path }

    public func exchange(method: String, path requestPath: String, headers: [String], body: [UInt8]?,
                         timeoutSeconds: Int) throws(DaemonClientError) -> (status: Int, body: [UInt8]) {
        do {
            return try UnixHTTPExchange.perform(socketPath: path, method: method, path: requestPath, headers: headers,
                                                body: body, timeoutSeconds: timeoutSeconds)
        } catch {
            throw .unreachable(socket: path, reason: error.description)
        }
    }
}

/// How the operator verifies daemons over TLS: this CA bundle only, and the name every daemon's certificate carries.
public struct DaemonTrust: Sendable, Hashable {
    public var caFile: String
    public var serverName: String

    public init(caFile: String, serverName: String = "multi-nicd") {
        self.caFile = caFile
        self.serverName = serverName
    }
}

/// Why a call to a daemon failed.
public enum DaemonClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing answered (daemon down or restarting).
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
}

/// The one daemon client: the CNI binaries (unix socket), the lab and the operator's fleet (TCP with a token) make
/// their calls through it, each over its ``DaemonTransport``. One request per call, JSON in and out; blocking calls,
/// or `async` ones run on a dedicated thread.
public struct DaemonClient: Sendable {
    public let transport: any DaemonTransport
    /// `Authorization: Bearer` for TCP transports.
    public let token: String?
    public let timeoutSeconds: Int

    public init(transport: any DaemonTransport, token: String? = nil, timeoutSeconds: Int = 30) {
        self.transport = transport
        self.token = token
        self.timeoutSeconds = timeoutSeconds
    }

    /// A client of the daemon's unix socket.
    public init(socketPath: String = DaemonAPI.nodeSocket, timeoutSeconds: Int = 30) {
        self.init(transport: UnixSocketDaemonTransport(path: socketPath), timeoutSeconds: timeoutSeconds)
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

    /// Runs a blocking call on a dedicated thread (never on the concurrency pool's threads).
    public func detached<T: Sendable>(_ body: @escaping @Sendable (DaemonClient) throws(DaemonClientError) -> T)
        async throws(DaemonClientError) -> T
    {
        let result = await OSThread.result { () throws(DaemonClientError) -> T in try body(self) }
        return try result.get()
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
        var headers = ["Content-Type: application/json"]
        if let token { headers.append("Authorization: Bearer \(token)") }
        return try transport.exchange(method: method, path: path, headers: headers, body: body.map { Array($0) },
                                      timeoutSeconds: timeoutSeconds)
    }
}

extension DaemonClient {
    /// `GET /interface`: the node's NICs.
    public func interfaces() throws(DaemonClientError) -> [InterfaceInfo] {
        try get(DaemonAPI.interfacePath, as: [InterfaceInfo].self)
    }

    /// `PUT /pools`: the node's IPPools.
    public func setPools(_ pools: [IPPool]) throws(DaemonClientError) -> DaemonStatus {
        try put(DaemonAPI.poolsPath, pools, as: DaemonStatus.self)
    }

    /// `POST /addl3`: one network's full route set.
    public func setRoutes(_ request: L3Request) throws(DaemonClientError) -> L3Response {
        try post(DaemonAPI.addL3Path, request, as: L3Response.self)
    }

    /// `POST /deletel3`: removes one network's routes.
    public func deleteRoutes(network: String) throws(DaemonClientError) -> L3Response {
        try post(DaemonAPI.deleteL3Path, L3Request(name: network, subnet: "", routes: []), as: L3Response.self)
    }

    /// `GET /podleases`: the pods holding leases, for the leak sweep.
    public func podLeases() throws(DaemonClientError) -> PodLeaseSnapshot {
        try get(DaemonAPI.podLeasesPath, as: PodLeaseSnapshot.self)
    }

    /// `POST /releasepods`: releases the leases of pods that are gone.
    public func releasePods(_ request: PodReleaseRequest) throws(DaemonClientError) -> [IPAllocation] {
        try post(DaemonAPI.releasePodsPath, request, as: [IPAllocation].self)
    }

    /// `GET /status`.
    public func status() throws(DaemonClientError) -> DaemonStatus {
        try get(DaemonAPI.statusPath, as: DaemonStatus.self)
    }
}
