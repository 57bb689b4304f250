#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// One line per CNI invocation appended to a log file (never stdout): time, binary, verb, container, interface,
/// network, exit code, duration and, on failure, the error message. The file is `MULTINIC_CNI_LOG` when set (the
/// runtime's environment), else the binary's default (e.g. /var/log/multi-nic-cni.log) — never a path from the NetConf,
/// which namespace users write. Every field from the NetConf or the environment is escaped (no newline or control
/// character reaches the file), and the file is opened without following a symlink. A file that cannot be opened is
/// skipped: logging never changes the outcome.
public struct InvocationLog: Sendable {
    public let defaultPath: String
    public let binary: String

    public init(binary: String, defaultPath: String) {
        self.binary = binary
        self.defaultPath = defaultPath
    }

    /// Where this invocation logs: `MULTINIC_CNI_LOG` from the environment, else the default.
    public func path(_ environment: CNIEnvironment) -> String {
        if let path = environment.variables["MULTINIC_CNI_LOG"], !path.isEmpty { return path }
        return defaultPath
    }

    /// The line for one invocation (without the trailing newline).
    public func line(_ environment: CNIEnvironment, stdout: String, exitCode: Int32, milliseconds: Double, now: time_t) -> String {
        line(environment, conf: Self.conf(environment), stdout: stdout, exitCode: exitCode, milliseconds: milliseconds, now: now)
    }

    /// Appends the invocation's line (the NetConf is read once for the path and the line).
    public func record(_ environment: CNIEnvironment, stdout: String, exitCode: Int32, milliseconds: Double) {
        let conf = Self.conf(environment)
        let text = line(environment, conf: conf, stdout: stdout, exitCode: exitCode, milliseconds: milliseconds, now: time(nil)) + "\n"
        let descriptor = open(path(environment), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0o640)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    static func conf(_ environment: CNIEnvironment) -> [String: JSONValue]? {
        (try? JSONValue.parse(String(decoding: environment.stdin, as: UTF8.self)))?.objectValue
    }

    func line(_ environment: CNIEnvironment, conf: [String: JSONValue]?, stdout: String, exitCode: Int32, milliseconds: Double,
              now: time_t) -> String {
        let variables = environment.variables
        func text(_ value: String?) -> String { LogText.escaped(value ?? "", limit: 512) }
        var fields = [Self.timestamp(now), binary, text(variables["CNI_COMMAND"] ?? "-"),
                      "container=\(text(variables["CNI_CONTAINERID"]))", "ifname=\(text(variables["CNI_IFNAME"]))",
                      "network=\(text(conf?["name"]?.stringValue))", "exit=\(exitCode)",
                      "ms=\(CheckedNumber.integer((milliseconds * 100).rounded(.down), in: 0...Int(Int32.max)).map { Double($0) / 100 } ?? -1)"]
        if exitCode != 0, let error = (try? JSONValue.parse(stdout))?.objectValue {
            let code = error["code"].map { text($0.description) } ?? "?"
            fields.append("code=\(code) msg=\(text(error["msg"]?.stringValue)) details=\(text(error["details"]?.stringValue))")
        }
        return fields.joined(separator: " ")
    }

    /// Monotonic milliseconds, for durations.
    public static func milliseconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1_000_000
    }

    /// `2026-11-29T04:23:11Z`.
    static func timestamp(_ seconds: time_t) -> String {
        var value = seconds
        var parts = tm()
        gmtime_r(&value, &parts)
        func two(_ number: Int32) -> String { number < 10 ? "0\(number)" : "\(number)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
