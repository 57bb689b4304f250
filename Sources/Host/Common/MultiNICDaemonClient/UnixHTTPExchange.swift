#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 exchange over a unix socket, for the node daemon's API: one request per connection
/// (`Connection: close`), no libcurl, no Foundation. It is what keeps the CNI binaries small and quick to start.
///
/// HTTP rather than a length-prefixed JSON framing: the daemon serves one API to the CNI binaries, the operator (TCP),
/// the lab and a human with `curl --unix-socket`; one router, one set of status codes, and this client is the only
/// extra code.
public enum UnixHTTPExchange {
    /// Why an exchange got no HTTP answer.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The largest answer accepted (the daemon's biggest, `/podleases` on a full node, is far below).
    public static let maximumResponseBytes = 16 << 20

    /// Sends one request and returns the status and the whole body. `timeoutSeconds` bounds the whole exchange.
    public static func perform(socketPath: String, method: String, path: String, headers: [String] = [],
                               body: [UInt8]?, timeoutSeconds: Int) throws(Failure) -> (status: Int, body: [UInt8]) {
        let deadline = Deadline(seconds: timeoutSeconds)
        let socket = try connect(socketPath, deadline: deadline)
        defer { close(socket) }
        try writeAll(socket, request(method: method, path: path, headers: headers, body: body), deadline: deadline)
        var response = ResponseParser()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !response.isComplete {
            try wait(socket, for: Int16(POLLIN), deadline: deadline)
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure("reading the answer: \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                try response.finish()
                break
            }
            try response.consume(buffer[0..<count])
        }
        return try response.result()
    }

    /// The request's bytes: a `Host` header (HTTP/1.1 requires one), the caller's headers, the body's length.
    static func request(method: String, path: String, headers: [String], body: [UInt8]?) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        for header in headers { head += header + "\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" } else if method != "GET" { head += "Content-Length: 0\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (body ?? [])
    }

    private static func connect(_ path: String, deadline: Deadline) throws(Failure) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < capacity else { throw Failure("socket path is empty or too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard socket >= 0 else { throw Failure("socket: \(String(cString: strerror(errno)))") }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, length) }
        }
        if result != 0 {
            let code = errno
            // A unix socket connects at once or fails at once, except with a full backlog (EAGAIN): wait then.
            guard code == EAGAIN || code == EINPROGRESS else {
                close(socket)
                throw Failure("connecting to \(path): \(String(cString: strerror(code)))")
            }
            do throws(Failure) {
                try wait(socket, for: Int16(POLLOUT), deadline: deadline)
                var pending: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(socket, SOL_SOCKET, SO_ERROR, &pending, &size)
                if pending != 0 { throw Failure("connecting to \(path): \(String(cString: strerror(pending)))") }
            } catch {
                close(socket)
                throw error
            }
        }
        return socket
    }

    private static func writeAll(_ socket: Int32, _ bytes: [UInt8], deadline: Deadline) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            try wait(socket, for: Int16(POLLOUT), deadline: deadline)
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(socket, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw Failure("sending the request: \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    /// Waits until `socket` is ready for `events` or the deadline passes.
    private static func wait(_ socket: Int32, for events: Int16, deadline: Deadline) throws(Failure) {
        while true {
            let remaining = deadline.remainingMilliseconds()
            guard remaining > 0 else { throw Failure("no answer within \(deadline.seconds) s") }
            var entry = pollfd(fd: socket, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: remaining))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw Failure("poll: \(String(cString: strerror(errno)))") }
        }
    }
}

/// A point in monotonic time `seconds` from now (non-positive: a day, i.e. no practical limit).
struct Deadline {
    let seconds: Int
    private let end: Int64

    init(seconds: Int) {
        self.seconds = seconds
        let span = seconds > 0 ? min(seconds, 86_400) : 86_400
        end = Self.nowMilliseconds() + Int64(span) * 1000
    }

    func remainingMilliseconds() -> Int64 { end - Self.nowMilliseconds() }

    static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
