import Foundation

/// Why a lab step failed.
public struct LabError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the system tools the lab is built with (`ip`, `iperf3`, `ping`), with their output captured.
enum LabShell {
    static let ip = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `path` with `arguments`; `stdin` is written to it.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], environment: [String: String]? = nil, stdin: String? = nil) throws(LabError) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let output = Pipe()
        let errors = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        do {
            try process.run()
        } catch {
            throw LabError("cannot run \(path): \(error)")
        }
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let errorData = Locked(Data())
        let reader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(500) }
        return Result(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self),
                      errors: String(decoding: errorData.value, as: UTF8.self))
    }

    static let nsenter = ["/usr/bin/nsenter", "/bin/nsenter"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/nsenter"

    /// Runs `command` inside the network namespace `namespace`. nsenter only switches the network namespace (unlike
    /// `ip netns exec`, which also remounts /sys and gets slower with every namespace on the machine).
    static func inNamespace(_ namespace: String, _ command: [String], environment: [String: String]? = nil,
                            stdin: String? = nil) throws(LabError) -> Result {
        try run(nsenter, ["--net=/var/run/netns/\(namespace)"] + command, environment: environment, stdin: stdin)
    }

    /// Starts a long-running program inside the network namespace `namespace`, its output written to `log`; `what`
    /// names it in the error. nsenter switches the network namespace only; `sysfs: true` runs it through
    /// `ip netns exec`, which also mounts the namespace's own /sys (the daemon reads its NICs' speed there). The
    /// process runs on after this returns.
    static func spawn(_ what: String, in namespace: String, _ command: [String], log: String, sysfs: Bool = false) throws(LabError) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sysfs ? ip : nsenter)
        process.arguments = (sysfs ? ["netns", "exec", namespace] : ["--net=/var/run/netns/\(namespace)"]) + command
        // Appended to: a program restarted (`lab chaos`) keeps what it logged before.
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let output = FileHandle(forWritingAtPath: log)
        _ = try? output?.seekToEnd()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LabError("cannot start \(what): \(error)")
        }
        return process
    }

    /// `ip <arguments>`; a failure throws with ip's message.
    @discardableResult
    static func ip(_ arguments: String...) throws(LabError) -> String {
        let result = try run(ip, arguments)
        guard result.status == 0 else {
            throw LabError("ip \(arguments.joined(separator: " ")): \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output
    }

    /// `ip` that may fail (clean-up of things that may already be gone).
    static func ipIgnoringErrors(_ arguments: String...) {
        _ = try? run(ip, arguments)
    }
}

/// A value handed from one thread to another once.
final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var stored: Value
    private var written = false

    init(_ value: Value) { stored = value }

    func set(_ value: Value) {
        lock.withLock {
            stored = value
            written = true
        }
    }

    var value: Value { lock.withLock { stored } }

    /// Changes the value under the lock.
    func update(_ change: (inout Value) -> Void) {
        lock.withLock { change(&stored) }
    }
    var isSet: Bool { lock.withLock { written } }
}
