import Foundation
import Glibc
@testable import MultiNICDaemonClient
import Testing

/// The CNI binaries' own HTTP/1.1 client: framing by length, by chunks and by close, answers cut short, timeouts,
/// and the exact request bytes a scripted unix-socket server receives.
@Suite(.ownThread) struct UnixHTTPExchangeTests {
    /// Parses `wire` fed in pieces of `step` bytes (every split point matters for a streaming parser).
    func parse(_ wire: String, step: Int, closeAtEnd: Bool = false) throws -> (status: Int, body: [UInt8]) {
        var parser = ResponseParser()
        let bytes = Array(wire.utf8)
        var offset = 0
        while offset < bytes.count && !parser.isComplete {
            let end = min(offset + step, bytes.count)
            try parser.consume(bytes[offset..<end])
            offset = end
        }
        if closeAtEnd { try parser.finish() }
        return try parser.result()
    }

    @Test(arguments: [1, 2, 3, 7, 64, 4096])
    func framesBodiesByLengthChunksAndClose(step: Int) throws {
        let length = try parse("HTTP/1.1 201 Created\r\nContent-Length: 5\r\nContent-Type: x\r\n\r\nhello", step: step)
        #expect(length.status == 201 && String(decoding: length.body, as: UTF8.self) == "hello")
        let chunked = try parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4;ext=1\r\nwiki\r\n6\r\npedia \r\n"
                                + "E\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n", step: step)
        #expect(chunked.status == 200 && String(decoding: chunked.body, as: UTF8.self) == "wikipedia in \r\n\r\nchunks.")
        let untilClose = try parse("HTTP/1.0 503 Service Unavailable\r\n\r\n{\"error\":\"busy\"}", step: step, closeAtEnd: true)
        #expect(untilClose.status == 503 && String(decoding: untilClose.body, as: UTF8.self) == "{\"error\":\"busy\"}")
        let interim = try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", step: step)
        #expect(interim.status == 204 && interim.body.isEmpty)
    }

    @Test func refusesCutShortAndMalformedAnswers() {
        let broken = [
            ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed before"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "closed before"),
            ("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.1 answer"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.1 answer"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", "Content-Length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY", "malformed chunk"),
        ]
        for (wire, reason) in broken {
            #expect(throws: UnixHTTPExchange.Failure.self, "\(wire)") {
                _ = try parse(wire, step: 3, closeAtEnd: true)
            }
            do {
                _ = try parse(wire, step: 3, closeAtEnd: true)
            } catch {
                #expect("\(error)".contains(reason), "\(wire): \(error)")
            }
        }
    }

    @Test func sendsOneWellFormedRequestAndReadsTheAnswer() throws {
        try withScriptedServer(answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}") { path, received in
            let answer = try UnixHTTPExchange.perform(socketPath: path, method: "POST", path: "/allocate",
                                                      headers: ["Content-Type: application/json"],
                                                      body: Array("{\"pod\":\"p\"}".utf8), timeoutSeconds: 5)
            #expect(answer.status == 200 && answer.body == Array("{}".utf8))
            #expect(received() == "POST /allocate HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                    + "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"pod\":\"p\"}")
        }
    }

    @Test func aSilentDaemonTimesOutAndAnAbsentOneFailsAtOnce() throws {
        try withScriptedServer(answer: nil) { path, _ in
            let started = Date()
            #expect {
                try UnixHTTPExchange.perform(socketPath: path, method: "GET", path: "/status", body: nil, timeoutSeconds: 1)
            } throws: { error in
                (error as? UnixHTTPExchange.Failure)?.description == "no answer within 1 s"
            }
            #expect(Date().timeIntervalSince(started) < 10)
        }
        #expect {
            try UnixHTTPExchange.perform(socketPath: "/nonexistent/x.sock", method: "GET", path: "/", body: nil, timeoutSeconds: 1)
        } throws: { error in
            (error as? UnixHTTPExchange.Failure)?.description.contains("No such file or directory") == true
        }
    }

    /// A unix-socket server on a thread of its own that reads one request and writes `answer` (nil: never answers,
    /// holds the connection until the test ends). `received` returns the request's bytes.
    func withScriptedServer(answer: String?, _ body: (String, () -> String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mn-http-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/s.sock"
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0 && listen(listener, 4) == 0)
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let connection = accept(listener, nil, nil)
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            // Headers, then as many body bytes as Content-Length says.
            while connection >= 0 {
                let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                request += buffer[0..<count]
                let text = String(decoding: request, as: UTF8.self)
                if let split = text.range(of: "\r\n\r\n") {
                    let length = text.split(separator: "\r\n").first { $0.hasPrefix("Content-Length: ") }
                        .flatMap { Int($0.dropFirst(16)) } ?? 0
                    if text[split.upperBound...].utf8.count >= length { break }
                }
            }
            received.set(String(decoding: request, as: UTF8.self))
            if let answer, connection >= 0 {
                _ = Array(answer.utf8).withUnsafeBytes { send(connection, $0.baseAddress, $0.count, 0) }
            } else {
                done.wait()
            }
            if connection >= 0 { close(connection) }
            finished.signal()
        }
        defer {
            done.signal()
            finished.wait()
            close(listener)
        }
        try body(path) { received.get() }
    }

    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        func set(_ value: String) { lock.withLock { text = value } }
        func get() -> String { lock.withLock { text } }
    }
}
