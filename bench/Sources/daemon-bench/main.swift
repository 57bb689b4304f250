// Allocations per second through a running multi-nicd over its unix socket (16 concurrent keep-alive clients),
// side by side with Debian's host-local IPAM plugin doing the same number of ADDs (16 at a time).
// Usage: daemon-bench <multi-nicd> <plugins-dir> [allocations]
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: daemon-bench <multi-nicd binary> <plugins dir> [allocations]")
    exit(2)
}
let total = arguments.count > 3 ? Int(arguments[3]) ?? 4000 : 4000
let workers = 16
/// Serialises pipe creation and spawning (see spawnPlugin); declared first: top-level code runs in order.
let spawnLock = NSLock()
let work = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-daemon-bench-\(UUID())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }

// MARK: - multi-nicd over the unix socket

let pools = """
    [{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"bench-10.100.0.0-16"},
      "spec":{"podCIDR":"10.100.0.0/16","vlanCIDR":"10.100.0.0/16","netAttachDef":"bench","hostName":"bench-node",
              "interfaceName":"lo","excludes":[],"allocations":[]}}]
    """
try pools.write(toFile: work + "/pools.json", atomically: true, encoding: .utf8)
let daemon = Process()
daemon.executableURL = URL(fileURLWithPath: arguments[1])
daemon.arguments = ["--node-name", "bench-node", "--port", "0", "--socket", work + "/d.sock", "--state-dir", work + "/state",
                    "--plugins-dir", arguments[2], "--pools-file", work + "/pools.json", "--rt-tables", work + "/rt_tables",
                    "--log-level", "error"]
try daemon.run()
defer { daemon.terminate(); daemon.waitUntilExit() }

/// A minimal HTTP/1.1 keep-alive client on a unix socket.
final class SocketClient {
    let descriptor: Int32

    init?(path: String) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 { close(descriptor); return nil }
    }

    deinit { close(descriptor) }

    /// POSTs `body` and returns the status code.
    func post(_ path: String, _ body: String) -> Int {
        let request = "POST \(path) HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = request.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        var received: [UInt8] = []
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count <= 0 { return -1 }
            received += buffer[0..<count]
            guard let headerEnd = received.firstRange(of: Array("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: received[..<headerEnd.lowerBound], as: UTF8.self)
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            if received.count - headerEnd.upperBound >= length {
                return Int(head.split(separator: " ")[1]) ?? -1
            }
        }
    }
}

var ready = false
for _ in 0..<200 {
    if let client = SocketClient(path: work + "/d.sock"), client.post("/deallocate", #"{"pod":"x","namespace":"x","host":"x","def":"bench"}"#) == 200 {
        ready = true
        break
    }
    usleep(25_000)
}
guard ready else { fatalError("multi-nicd did not answer on \(work)/d.sock") }

func timed(_ body: () -> Void) -> Double {
    let start = Date()
    body()
    return Date().timeIntervalSince(start)
}

/// Runs `body` on `count` dedicated threads at once (concurrentPerform would cap this at the core count).
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for worker in 0..<count {
        group.enter()
        let thread = Thread {
            body(worker)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

let failures = ManagedAtomicCounter()
let daemonSeconds = timed {
    onThreads(workers) { worker in
        guard let client = SocketClient(path: work + "/d.sock") else { failures.add(); return }
        for index in stride(from: worker, to: total, by: workers) {
            // Identifiers as runtimes and the API server make them: a 64-hex container ID, a pod name of a ReplicaSet.
            let containerID = String(repeating: String(format: "%016llx", UInt64(index) &* 0x9E37_79B9_7F4A_7C15), count: 4)
            let body = #"{"pod":"bench-7d9f8c6b5d-\#(index)","namespace":"bench","host":"bench-node","def":"bench","masters":["lo"],"containerID":"\#(containerID)","ifNames":["net1"]}"#
            if client.post("/allocate", body) != 200 { failures.add() }
        }
    }
}

/// `VmRSS`/`VmHWM` (KiB) of a process.
func memoryKiB(_ pid: Int32, _ field: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }?.split(separator: " ").compactMap { Int($0) }.first ?? 0
}
// The daemon's memory holding every lease (goal: ≤ 40 MB with 10 000), once its mirror has caught up (it publishes
// 100 ms after the last change).
sleep(1)
let daemonRSS = memoryKiB(daemon.processIdentifier, "VmRSS"), daemonPeak = memoryKiB(daemon.processIdentifier, "VmHWM")
/// Of the resident memory: the daemon's own (anonymous) and the mapped code and data of its binary and libraries.
let daemonAnon = memoryKiB(daemon.processIdentifier, "RssAnon"), daemonFile = memoryKiB(daemon.processIdentifier, "RssFile")
if let hold = ProcessInfo.processInfo.environment["DAEMON_BENCH_HOLD"], let seconds = UInt32(hold) {
    print("multi-nicd pid \(daemon.processIdentifier) held for \(seconds) s")
    sleep(seconds)
}

// MARK: - host-local

/// host-local runs at most 4000 (a process per ADD: tens per second); the rates are compared.
let hostLocalTotal = min(total, 4000)

let hostLocalConfig = #"{"cniVersion":"1.0.0","name":"bench","ipam":{"type":"host-local","subnet":"10.101.0.0/16","dataDir":"\#(work)/host-local"}}"#
let hostLocalSeconds = timed {
    onThreads(workers) { worker in
        for index in stride(from: worker, to: hostLocalTotal, by: workers) {
            // posix_spawn, as a container runtime execs plugins (Foundation.Process adds tens of ms).
            let environment = ["CNI_COMMAND=ADD", "CNI_CONTAINERID=c\(index)", "CNI_NETNS=/var/run/netns/none",
                               "CNI_IFNAME=net1", "CNI_PATH=/usr/lib/cni"]
            if spawnPlugin("/usr/lib/cni/host-local", environment: environment, input: hostLocalConfig) != 0 { failures.add() }
        }
    }
}
let daemonRate = Double(total) / daemonSeconds
let hostLocalRate = Double(hostLocalTotal) / hostLocalSeconds
print("multi-nicd over the unix socket, 16 clients: \(Int(daemonRate)) allocations/s; host-local, 16 at a time: "
    + "\(Int(hostLocalRate)) ADDs/s; ratio \(String(format: "%.1f", daemonRate / hostLocalRate))×; failures \(failures.value)")
print(String(format: "multi-nicd holding %d leases: resident %.1f MiB (anonymous %.1f, mapped files %.1f), peak %.1f MiB "
             + "(goal ≤ 40 MB at 10 000)", total, Double(daemonRSS) / 1024, Double(daemonAnon) / 1024, Double(daemonFile) / 1024,
             Double(daemonPeak) / 1024))

/// Runs a CNI plugin with `input` on stdin and stdout/stderr discarded; returns its exit status.
@Sendable func spawnPlugin(_ path: String, environment: [String], input: String) -> Int32 {
    var pipeFDs: [Int32] = [0, 0]
    // Pipe creation and spawn share a lock, so no child inherits another child's pipe before it is close-on-exec.
    spawnLock.lock()
    guard pipe(&pipeFDs) == 0 else { spawnLock.unlock(); return -1 }
    _ = fcntl(pipeFDs[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(pipeFDs[1], F_SETFD, FD_CLOEXEC)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipeFDs[0], 0)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var pid: pid_t = 0
    let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
    spawnLock.unlock()
    close(pipeFDs[0])
    if spawned == 0 { _ = input.withCString { write(pipeFDs[1], $0, strlen($0)) } }
    close(pipeFDs[1])
    guard spawned == 0 else { return -1 }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status >> 8) & 0xFF
}

/// A thread-safe counter.
final class ManagedAtomicCounter: @unchecked Sendable {
    private var count = 0
    private let lock = NSLock()
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
