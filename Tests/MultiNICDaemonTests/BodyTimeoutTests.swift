import Foundation
import Hummingbird
import HummingbirdTesting
@testable import MultiNICDaemon
import Synchronization
import Testing

/// A request body that stops arriving gets a 408, and waiting bodies are watched by one loop, not a timer each.
@Suite struct BodyTimeoutTests {
    @Test func aBodyThatStopsArrivingIs408AndTheNextRequestIsServed() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-body-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let services = try DaemonAPITests.services(directory: directory)
        let router = DaemonRouter.build(services, access: .localSocket, limits: DaemonRouter.Limits(maxBodyBytes: 4096, bodyTimeoutSeconds: 1))
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Headers promise 200 bytes; 10 arrive, then nothing.
            let answer = try await Task.detached {
                try Self.exchange(port: port, "POST /allocate HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"pod\":\"p")
            }.value
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains("did not arrive within 1 s"), "\(answer)")
            let status = try await client.execute(uri: "/status", method: .get) { $0.status.code }
            #expect(status == 200)
        }
    }

    @Test func aWatchExpiresOnlyWhenNotFinishedInTime() async throws {
        let deadlines = BodyDeadlines(tick: .milliseconds(20))
        let expired = Atomic<Int>(0)
        let quick = deadlines.watch(seconds: 30) { expired.add(1, ordering: .relaxed) }
        #expect(deadlines.finish(quick) == false, "finished before its deadline")
        let slow = deadlines.watch(seconds: 0) { expired.add(1, ordering: .relaxed) }
        for _ in 0..<500 where expired.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(expired.load(ordering: .relaxed) == 1, "only the overdue watch expired")
        #expect(deadlines.finish(slow) == true)
        #expect(deadlines.watching == 0)
    }

    /// Sends `request` on a TCP connection to 127.0.0.1:`port` and returns what comes back until the server closes
    /// or 10 s pass.
    static func exchange(port: Int, _ request: String) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
            if let text = String(bytes: received, encoding: .utf8), text.contains("\r\n\r\n"), text.contains("}") { break }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
