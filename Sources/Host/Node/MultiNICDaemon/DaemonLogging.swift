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
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object: [String: String] = ["time": ISO8601DateFormatter().string(from: Date()), "level": event.level.rawValue,
                                        "message": event.message.description, "logger": label]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = value.description
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }
}
