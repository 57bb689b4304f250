import Foundation
import Hummingbird
import Logging
import MultiNICCore
import MultiNICHTTP
import Synchronization

/// moto (PyPI, `moto[server]`) in server mode: a real EC2 emulator, in a venv `.ci/install-deps --tests` makes.
/// Started on a free loopback port per test; stopped at the end.
final class MotoServer: Sendable {
    /// Where `.ci/install-deps --tests` installs it (`MULTINIC_MOTO_SERVER` overrides).
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["MULTINIC_MOTO_SERVER"] ?? "/opt/multinic-test-venv/bin/moto_server"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    let process: Process
    let endpoint: String

    init() throws {
        guard let executable = Self.executable else { throw Missing() }
        let port = try Self.freePort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        endpoint = "http://127.0.0.1:\(port)"
        for _ in 0..<200 {
            if let answer = try? CurlTransport.perform(MultiNICHTTP.HTTPRequest(endpoint: .url(endpoint), method: "GET", path: "/moto-api/", timeoutSeconds: 2)),
               answer.status < 500 { return }
            usleep(50_000)
        }
        stop()
        throw Missing()
    }

    /// SIGKILL: a child started from a test thread inherits a signal mask that blocks SIGTERM.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A VPC subnet and an ENI in it with `primary` as its primary address: (ENI id, MAC).
    func makeInterface(client: MotoAdmin, cidr: String, primary: String) throws -> (eni: String, mac: String) {
        let vpc = try client.value("CreateVpc", [("CidrBlock", cidr.replacingOccurrences(of: "/24", with: "/16"))], "vpcId")
        let subnet = try client.value("CreateSubnet", [("VpcId", vpc), ("CidrBlock", cidr)], "subnetId")
        let created = try client.call("CreateNetworkInterface", [("SubnetId", subnet), ("PrivateIpAddress", primary)])
        return (try MotoAdmin.first("networkInterfaceId", created), try MotoAdmin.first("macAddress", created))
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw Missing() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "moto_server is not installed (bash .ci/install-deps --tests)" }
    }
}

/// Unsigned calls straight to moto, for setting up and reading back what a test checks (moto does not check
/// signatures): an independent view of EC2's state.
struct MotoAdmin {
    let endpoint: String

    func call(_ action: String, _ parameters: [(String, String)]) throws -> String {
        let body = ([("Action", action), ("Version", "2016-11-15")] + parameters)
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        let answer = try CurlTransport.perform(MultiNICHTTP.HTTPRequest(
            endpoint: .url(endpoint), method: "POST", path: "/",
            headers: ["Content-Type: application/x-www-form-urlencoded",
                      "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0"],
            body: Array(body.utf8)))
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else { throw Failure(text: "\(action): \(answer.status) \(text)") }
        return text
    }

    func value(_ action: String, _ parameters: [(String, String)], _ element: String) throws -> String {
        try Self.first(element, try call(action, parameters))
    }

    /// The ENI's private addresses, as EC2 reports them.
    func addresses(eni: String) throws -> Set<String> {
        Set(Self.all("privateIpAddress", try call("DescribeNetworkInterfaces", [("NetworkInterfaceId.1", eni)])))
    }

    static func first(_ element: String, _ xml: String) throws -> String {
        guard let found = all(element, xml).first else { throw Failure(text: "no <\(element)> in \(xml.prefix(300))") }
        return found
    }

    static func all(_ element: String, _ xml: String) -> [String] {
        xml.components(separatedBy: "<\(element)>").dropFirst().compactMap { $0.components(separatedBy: "</\(element)>").first }
    }

    struct Failure: Error, CustomStringConvertible { var text: String; var description: String { text } }
}

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
