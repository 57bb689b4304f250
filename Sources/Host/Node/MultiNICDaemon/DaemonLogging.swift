import Foundation
import Logging

/// The process environment, for flag defaults.
public enum ProcessEnvironment {
    public static var values: [String: String] { ProcessInfo.processInfo.environment }
}

/// Logging to stderr, as text or one JSON object per line.
public enum DaemonLogging {
    public static func logger(level: String, json: Bool) -> Logger {
        var logger = Logger(label: "multi-nicd") { label in
            json ? JSONLogHandler(label: label) as any LogHandler : StreamLogHandler.standardError(label: label)
        }
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }
}

/// `{"time":…,"level":…,"message":…,…metadata}` per line on stderr.
struct JSONLogHandler: LogHandler {
    let label: String
    /// Where lines go: stderr; a pipe in tests.
    var descriptor: Int32 = STDERR_FILENO
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = ["time": Date().formatted(.iso8601), "level": event.level.rawValue,
                                        "message": event.message.description, "logger": label]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = value.description
        }
        guard var line = try? Self.encoder.encode(object) else { return }
        line.append(UInt8(ascii: "\n"))
        // One write per line (stderr is unbuffered): lines of concurrent loggers do not interleave.
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(descriptor, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Sorted keys, so a line reads the same every time. Not the type's stored property: a `LogHandler` is copied.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
