#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// Runs a delegate CNI plugin (ipvlan, macvlan, sriov, …) the way a runtime does: posix_spawn with the CNI_*
/// environment and the config on stdin, stdout captured (Foundation.Process costs tens of milliseconds).
public struct DelegateRunner: Sendable {
    /// Directories searched for plugin binaries (`CNI_PATH`).
    public let searchPath: [String]
    /// Variables every delegate gets besides the `CNI_*` ones (a runtime passes its own environment on).
    public let environment: [String: String]
    /// A delegate still running after this long is killed (SIGKILL) and its call fails: a hung plugin must not hold
    /// the pod's ADD (and the daemon's addresses) forever.
    public let timeoutSeconds: Double

    /// `timeoutSeconds` defaults to `MULTINIC_DELEGATE_TIMEOUT` of the runtime's environment (1…3600), else 60.
    public init(searchPath: [String], environment: [String: String] = [:], timeoutSeconds: Double? = nil) {
        self.searchPath = searchPath
        self.environment = environment
        self.timeoutSeconds = timeoutSeconds ?? Self.defaultTimeout
    }

    static var defaultTimeout: Double {
        guard let raw = getenv("MULTINIC_DELEGATE_TIMEOUT"), let value = Double(String(cString: raw)),
              (1...3600).contains(value) else { return 60 }
        return value
    }

    /// The plugin's path, or a CNI error naming where it looked. `type` comes from a NetConf or an attachment record
    /// (both reachable by namespace users), so it must be a bare ``SafeName`` — no `/`, never `.` or `..` — and is only
    /// looked up as a regular executable file directly inside a `CNI_PATH` entry (absolute entries only).
    public func locate(_ type: String) throws(CNIError) -> String {
        if let problem = SafeName.problem(type) {
            throw CNIError(CNIError.invalidConfig, "delegate plugin type \"\(LogText.escaped(type, limit: 80))\" \(problem)",
                           details: "a delegate type is a plugin name looked up in CNI_PATH, never a path")
        }
        for directory in searchPath where directory.hasPrefix("/") {
            let candidate = directory + "/" + type
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        throw CNIError(CNIError.invalidConfig, "delegate plugin \(type) not found", details: "CNI_PATH: " + searchPath.joined(separator: ":"))
    }

    /// Runs `type` with `command`; returns its stdout. A non-zero exit becomes the plugin's own CNI error when it
    /// printed one.
    public func run(_ type: String, command: CNICommand, containerID: String, netns: String, ifName: String,
                    args: String, config: JSONValue) throws(CNIError) -> JSONValue? {
        let path = try locate(type)
        let environment = ["CNI_COMMAND=\(command.rawValue)", "CNI_CONTAINERID=\(containerID)", "CNI_NETNS=\(netns)",
                           "CNI_IFNAME=\(ifName)", "CNI_ARGS=\(args)", "CNI_PATH=\(searchPath.joined(separator: ":"))"]
            + self.environment.filter { !$0.key.hasPrefix("CNI_") }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let (status, output) = spawn(path, environment: environment, input: Array(config.description.utf8))
        if status == Self.timedOut {
            throw CNIError(CNIError.tryAgainLater, "\(type) \(command.rawValue) on \(ifName) did not finish within "
                + "\(Int(timeoutSeconds)) s and was killed")
        }
        let parsed = output.isEmpty ? nil : try? JSONValue.parse(String(decoding: output, as: UTF8.self))
        guard status == 0 else {
            if let object = parsed?.objectValue, case .integer(let code)? = object["code"] {
                throw CNIError(UInt(max(code, 0)), "\(type) \(command.rawValue) on \(ifName): " + (object["msg"]?.stringValue ?? ""),
                               details: object["details"]?.stringValue ?? "")
            }
            throw CNIError(CNIError.internalError, "\(type) \(command.rawValue) on \(ifName) exited with status \(status)")
        }
        return parsed
    }

    /// Writes all of `bytes` unless the reader is gone. A delegate that exits without reading its stdin must not kill
    /// the caller: SIGPIPE is blocked on this thread for the write, and one it raised is taken back before unblocking.
    static func writeIgnoringBrokenPipe(_ descriptor: Int32, _ bytes: [UInt8]) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        var written = 0
        var broken = false
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                broken = errno == EPIPE
                break
            }
            written += count
        }
        if broken {
            var immediately = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &immediately)
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
    }

    /// posix_spawn with stdin and stdout pipes (close-on-exec, so concurrent spawns never inherit them).
    private func spawn(_ path: String, environment: [String], input: [UInt8]) -> (Int32, [UInt8]) {
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0 else { return (-1, []) }
        guard pipe(&outPipe) == 0 else {
            close(inPipe[0])
            close(inPipe[1])
            return (-1, [])
        }
        for descriptor in inPipe + outPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        // The delegate starts with no blocked signals and default dispositions, whatever thread spawns it (threads of
        // Swift concurrency or Dispatch block most signals, and a child inherits the mask).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        if spawned == 0 { Self.writeIgnoringBrokenPipe(inPipe[1], input) }
        close(inPipe[1])
        let (output, finished) = Self.read(outPipe[0], until: Self.now() + timeoutSeconds)
        close(outPipe[0])
        guard spawned == 0 else { return (-1, []) }
        if !finished { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if !finished { return (Self.timedOut, output) }
        return ((status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }

    /// The status ``spawn`` answers for a delegate it killed at the deadline.
    static let timedOut: Int32 = -2

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// Reads until end of file or `deadline` (monotonic seconds); whether end of file came first.
    static func read(_ descriptor: Int32, until deadline: Double) -> ([UInt8], Bool) {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - now()
            guard left > 0 else { return (content, false) }
            var waiting = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, Int32(min(left * 1000, 60_000).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return (content, true) }
            if ready == 0 { continue }
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return (content, true) }
            content += buffer[0..<count]
        }
    }
}
