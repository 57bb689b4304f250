import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The real daemon under a TCP flood and a slowloris client: the unix socket stays served, and a connection that never
/// completes its request head is closed after the idle timeout.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root (CI runs as root)"), .serialized)
struct DaemonFloodTests {
    /// A TCP connection to 127.0.0.1:`port` with a receive timeout; `nil` when refused.
    static func connectTCP(_ port: Int, receiveTimeout seconds: Int = 5) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }

    @Test func aTCPFloodLeavesTheSocketServedAndSlowHeadsAreClosed() throws {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-flood-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PrivateFile.store(Array("flood-token-0123456789".utf8), at: directory + "/token")
        let port = Int.random(in: 20000...29999)
        try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
            let daemon = try RunningDaemon(directory: directory, pluginsDirectory: plugins, arguments: [
                "--port", String(port), "--bind", "127.0.0.1", "--token-file", directory + "/token",
                "--max-connections", "8", "--idle-timeout", "1"])
            defer { daemon.kill() }
            // Far more idle connections than the TCP listener takes: the rest wait in the backlog.
            var flood: [Int32] = []
            defer { flood.forEach { close($0) } }
            for _ in 0..<200 { if let descriptor = Self.connectTCP(port) { flood.append(descriptor) } }
            #expect(flood.count > 8)
            let clock = ContinuousClock()
            let start = clock.now
            let health = UnixHTTPClient(path: daemon.socketPath)?.request("GET", "/healthz")
            #expect(health?.status == 200, "the CNI socket is not starved by TCP")
            #expect(clock.now - start < .seconds(3))
            flood.forEach { close($0) }
            flood = []

            // Slowloris: a head that never ends is cut after the idle timeout (1 s here), not kept for minutes.
            let slow = try #require(Self.connectTCP(port, receiveTimeout: 8))
            defer { close(slow) }
            let partial = Array("GET /status HTTP/1.1\r\nHost: x\r\n".utf8)
            _ = partial.withUnsafeBytes { send(slow, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var byte: UInt8 = 0
            let opened = clock.now
            let received = recv(slow, &byte, 1, 0)
            #expect(received == 0, "the server closed the connection (recv \(received), errno \(errno))")
            #expect(clock.now - opened < .seconds(6))
        }
    }
}
