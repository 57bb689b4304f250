#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import MultiNICNetlink
import Synchronization

/// A TCP relay from 127.0.0.1 inside one of the test's network namespaces to a port on the test process's own
/// loopback: a daemon running in a host namespace reaches an in-test server (the fake API server) without any
/// address outside 127.0.0.0/8. The listening socket is made on a thread that entered the namespace (a socket
/// belongs to its creator's namespace); each connection is pumped both ways by two threads.
public final class NamespaceRelay: Sendable {
    /// The port inside the namespace.
    public let port: Int
    private let listener: Int32
    private let open = Mutex(true)

    /// `listenPort` 0: any free port inside the namespace.
    public init(namespace: String, listenPort: Int = 0, to targetPort: Int) throws {
        let made = Mutex<(Int32, Int)?>(nil)
        _ = NetworkNamespace.run(inNamespaceAt: "/var/run/netns/" + namespace) {
            // The namespace's loopback starts down.
            _ = try? TestNamespace.ip("-n", namespace, "link", "set", "lo", "up")
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = Self.loopback(port: listenPort)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ready = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, length) == 0 && listen(socket, 64) == 0 && getsockname(socket, $0, &length) == 0
                }
            }
            guard ready else { close(socket); return }
            made.withLock { $0 = (socket, Int(UInt16(bigEndian: address.sin_port))) }
        }
        guard let (socket, port) = made.withLock({ $0 }) else { throw PluginTestFailure("cannot listen inside namespace \(namespace)") }
        listener = socket
        self.port = port
        OSThread.detach { [self] in acceptLoop(targetPort: targetPort) }
    }

    /// Stops accepting (open connections finish on their own).
    public func stop() {
        let wasOpen = open.withLock { value -> Bool in
            defer { value = false }
            return value
        }
        if wasOpen { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
    }

    deinit { stop() }

    private func acceptLoop(targetPort: Int) {
        while open.withLock({ $0 }) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if errno == EINTR { continue }
                return
            }
            let upstream = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard connected else { close(client); close(upstream); continue }
            let pair = Pair(client, upstream)
            OSThread.detach { Self.pump(from: client, to: upstream, pair: pair) }
            OSThread.detach { Self.pump(from: upstream, to: client, pair: pair) }
        }
    }

    /// Both ends of one relayed connection, closed once both directions ended.
    final class Pair: Sendable {
        let a: Int32
        let b: Int32
        let ended = Mutex(0)
        init(_ a: Int32, _ b: Int32) { self.a = a; self.b = b }
        func end() {
            if ended.withLock({ count -> Int in count += 1; return count }) == 2 { close(a); close(b) }
        }
    }

    private static func pump(from source: Int32, to sink: Int32, pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            let written = buffer.withUnsafeBytes { FileIO.writeAll(Array($0.prefix(count)), to: sink) }
            guard written == nil else { break }
        }
        shutdown(sink, Int32(SHUT_WR))
        pair.end()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
