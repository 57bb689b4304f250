import Foundation

/// A real `multi-nicd` on a unix socket in a temporary directory (no TCP, pools on `lo`), for tests of its clients.
public final class RunningDaemon {
    public let directory: String
    public var socketPath: String { directory + "/d.sock" }
    public let process: Process

    /// Pools JSON of one IPPool `p` on `lo` for network `net` of node `n1`.
    public static let loopbackPools = """
        [{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"p"},"spec":{"podCIDR":"10.60.0.0/16",
          "vlanCIDR":"10.60.0.0/16","netAttachDef":"net","hostName":"n1","interfaceName":"lo","excludes":[],"allocations":[]}}]
        """

    /// Starts the daemon with `pools` over `directory` (state kept there) and waits until it answers. With a
    /// `namespace` it runs inside it (`ip netns exec`); `arguments` override or add flags (e.g. `--node-name`,
    /// `--port`, `--virtual-kinds`); `environment` is added to the test process's.
    public init(directory: String, pluginsDirectory: String, pools: String = RunningDaemon.loopbackPools,
                namespace: String? = nil, arguments: [String] = [], environment: [String: String] = [:]) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try pools.write(toFile: directory + "/pools.json", atomically: true, encoding: .utf8)
        process = Process()
        let daemon = try BuiltPlugins.executable("multi-nicd").path
        // Defaults, replaced by any flag `arguments` names (they come as flag/value pairs).
        var flags: [(String, String)] = [("--node-name", "n1"), ("--port", "0"), ("--socket", directory + "/d.sock"),
                                         ("--state-dir", directory + "/state"), ("--plugins-dir", pluginsDirectory),
                                         ("--pools-file", directory + "/pools.json"), ("--rt-tables", directory + "/rt_tables"),
                                         ("--quarantine-seconds", "0"), ("--log-level", "error")]
        // Flag/value pairs; a flag followed by another flag (or by nothing) stands alone (`--ipam-claims`).
        var lone: [String] = []
        var index = 0
        while index < arguments.count {
            let flag = arguments[index]
            guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                lone.append(flag)
                index += 1
                continue
            }
            let value = arguments[index + 1]
            if let position = flags.firstIndex(where: { $0.0 == flag }) { flags[position].1 = value } else { flags.append((flag, value)) }
            index += 2
        }
        let commandLine = flags.flatMap { [$0.0, $0.1] } + lone
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, daemon] + commandLine
        } else {
            process.executableURL = URL(fileURLWithPath: daemon)
            process.arguments = commandLine
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        FileManager.default.createFile(atPath: directory + "/stderr.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/stderr.log")
        try process.run()
        // Up to 30 s: a generous ceiling for a loaded CI machine running suites in parallel; a daemon that exits
        // (a flag it refuses, a port in use) ends the wait at once.
        for _ in 0..<3000 where process.isRunning {
            if UnixHTTPClient(path: directory + "/d.sock")?.request("GET", "/healthz")?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let log = (try? String(contentsOfFile: directory + "/stderr.log", encoding: .utf8))?.suffix(600) ?? ""
        let exited = process.isRunning ? "" : " (it exited with status \(process.terminationStatus): \(log))"
        kill()
        throw PluginTestFailure("multi-nicd did not answer on \(directory)/d.sock\(exited)")
    }

    /// SIGKILL and wait.
    public func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { kill() }
}
