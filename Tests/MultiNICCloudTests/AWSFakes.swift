import Foundation
import Hummingbird
import Logging
import MultiNICCore
import MultiNICHTTP
import MultiNICTestSupport
import Synchronization

/// An HTTP server on a loopback port answering with `handler` (EC2 in front of moto, an IMDSv2).
final class LoopbackServer: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    init(_ handler: @escaping @Sendable (_ method: String, _ path: String, _ headers: [String: String], _ body: [UInt8]) async -> (Int, String)) async throws {
        let router = Router()
        router.on("/**", method: .get) { request, _ in try await Self.answer(request, handler) }
        router.on("/**", method: .put) { request, _ in try await Self.answer(request, handler) }
        router.on("/**", method: .post) { request, _ in try await Self.answer(request, handler) }
        router.on("/", method: .post) { request, _ in try await Self.answer(request, handler) }
        var quiet = Logger(label: "loopback-server")
        quiet.logLevel = .critical
        let ready = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { ready.continuation.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var bound = 0
        for await port in ready.stream {
            bound = port
            break
        }
        port = bound
    }

    var url: String { "http://127.0.0.1:\(port)" }

    /// Nothing: like the fake API server, the server lives as long as the test process (cancelling Hummingbird's
    /// task while a client connection is open trips NIO's writer check).
    func stop() {}

    static func answer(_ request: Request, _ handler: @Sendable (String, String, [String: String], [UInt8]) async -> (Int, String)) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let (status, text) = await handler(request.method.rawValue, request.uri.path, headers, Array(buffer: body))
        return Response(status: .init(code: status), headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// EC2 in front of moto that answers `RequestLimitExceeded` (503) while ``throttle`` > 0 (each answer counts it
/// down; negative: always), and records each request's action and Authorization header.
final class ThrottlingEC2: Sendable {
    final class State: Sendable {
        let throttle: Mutex<Int>
        let seen = Mutex<[(action: String, authorization: String)]>([])
        init(_ throttle: Int) { self.throttle = Mutex(throttle) }
    }

    let server: LoopbackServer
    let state: State

    init(moto: String, throttle: Int = 0) async throws {
        let state = State(throttle)
        self.state = state
        server = try await LoopbackServer { method, path, headers, body in
            let text = String(decoding: body, as: UTF8.self)
            let action = text.split(separator: "&").first { $0.hasPrefix("Action=") }.map { String($0.dropFirst(7)) } ?? ""
            state.seen.withLock { $0.append((action, headers["authorization"] ?? "")) }
            let throttled = state.throttle.withLock { value -> Bool in
                guard value != 0 else { return false }
                if value > 0 { value -= 1 }
                return true
            }
            if throttled {
                return (503, "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message>"
                    + "</Error></Errors></Response>")
            }
            // Like EC2 (moto is lenient here): unassigning an address the ENI does not have fails the whole call.
            let form = Dictionary(text.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
            if action == "UnassignPrivateIpAddresses", let eni = form["NetworkInterfaceId"],
               let held = try? await detached({ try MotoAdmin(endpoint: moto).addresses(eni: eni) }),
               form.contains(where: { $0.key.hasPrefix("PrivateIpAddress.") && !held.contains($0.value) }) {
                return (400, "<Response><Errors><Error><Code>InvalidParameterValue</Code><Message>Some of the specified addresses "
                    + "are not assigned to interface \(eni)</Message></Error></Errors></Response>")
            }
            let passed = headers.filter { !["host", "content-length", "expect"].contains($0.key.lowercased()) }
            let forwarded = MultiNICHTTP.HTTPRequest(endpoint: .url(moto), method: method, path: path,
                                        headers: passed.map { "\($0.key): \($0.value)" }, body: body)
            guard let answer = try? await CurlTransport.performDetached(forwarded) else { return (502, "moto unreachable") }
            return (answer.status, String(decoding: answer.body, as: UTF8.self))
        }
    }

    var url: String { server.url }

    /// Throttle the next `count` requests (negative: every one).
    func setThrottle(_ count: Int) { state.throttle.withLock { $0 = count } }

    var requests: [(action: String, authorization: String)] { state.seen.withLock { $0 } }

    func stop() { server.stop() }
}

/// Runs blocking work (libcurl) on a thread of its own: tests run in parallel on a small cooperative pool, which the
/// in-test servers' handlers need too.
func detached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await OSThread.result { () throws(AnyError) -> T in
        do { return try body() } catch { throw AnyError(error) }
    }.mapError(\.error).get()
}

struct AnyError: Error {
    let error: any Error
    init(_ error: any Error) { self.error = error }
}
