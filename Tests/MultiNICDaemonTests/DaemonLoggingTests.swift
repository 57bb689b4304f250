import Foundation
import Logging
@testable import MultiNICDaemon
import Testing

struct DaemonLoggingTests {
    /// `--log-format json`: one object per line with an ISO 8601 time, the level, the message and the metadata — made
    /// without Foundation proper (the daemon does not load it).
    @Test func aJSONLineCarriesTimeLevelMessageAndMetadata() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        var handler = JSONLogHandler(label: "multi-nicd", descriptor: fds[1])
        handler[metadataKey: "pod"] = "ns/web-0"
        var logger = Logger(label: "multi-nicd") { _ in handler }
        logger.logLevel = .info
        logger.warning("pool exhausted: 10.0.0.0/24", metadata: ["network": "net/a"])
        logger.debug("not at this level")
        close(fds[1])
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = read(fds[0], &buffer, buffer.count), count > 0 { bytes += buffer[0..<count] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        try #require(lines.count == 1)
        let object = try JSONDecoder().decode([String: String].self, from: Data(lines[0].utf8))
        #expect(object["level"] == "warning")
        #expect(object["message"] == "pool exhausted: 10.0.0.0/24")
        #expect(object["pod"] == "ns/web-0")
        #expect(object["network"] == "net/a")
        #expect(object["logger"] == "multi-nicd")
        let time = try #require(object["time"])
        let parsed = try Date(time, strategy: .iso8601)
        #expect(abs(parsed.timeIntervalSinceNow) < 600)
        // Keys sorted, slashes as they are: the line is stable and greppable.
        #expect(lines[0].hasPrefix(#"{"level":"warning","logger":"multi-nicd","message":"pool exhausted: 10.0.0.0/24","network":"net/a","pod":"ns/web-0""#))
    }
}
