import Foundation

/// A minimal HTTP/1.1 keep-alive client on a unix socket, for tests that talk to a real `multi-nicd`.
public final class UnixHTTPClient {
    /// -1 once closed.
    private var descriptor: Int32

    /// Connects; `nil` when nothing listens at `path`.
    public init?(path: String) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            // A failed init of a fully initialised object still runs deinit: close here, and mark it closed, or
            // deinit closes the number again — by then perhaps another thread's socket or file (seen as NIO's
            // selector assertion, EBADF on a journal, and refused connections to in-test servers).
            close(descriptor)
            descriptor = -1
            return nil
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Sends a request and returns (status, body); `nil` when the connection broke.
    public func request(_ method: String, _ path: String, body: String = "") -> (status: Int, body: String)? {
        let text = "\(method) \(path) HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a peer that died (the crash tests kill it) must not SIGPIPE the test process.
            let count = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return nil }
            sent += count
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var received: [UInt8] = []
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { return nil }
            received += buffer[0..<count]
            guard let headerEnd = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: received[..<headerEnd.lowerBound], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if received.count - headerEnd.upperBound >= length {
                let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? -1
                return (status, String(decoding: received[headerEnd.upperBound..<(headerEnd.upperBound + length)], as: UTF8.self))
            }
        }
    }
}
