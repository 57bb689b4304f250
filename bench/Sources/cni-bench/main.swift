// CNI latency: `multi-nic` ADD/DEL for 1, 2 and 4 NICs — native (one /attach to a real multi-nicd, which configures
// the macvlans itself) and delegate (`nativeAttach: false`: /attach + one macvlan exec per NIC) — against the same
// macvlan ADDs/DELs run directly with static IPAM, in the same run; and the cold start of
// `multi-nic VERSION` against Debian's `macvlan VERSION`. Needs root (namespaces).
// Usage: cni-bench <CNI bin dir (.ci/build-cni)> <multi-nicd> <plugins dir> [iterations]
import Foundation
import MultiNICCNI
import MultiNICDaemonClient
import MultiNICCore

let arguments = CommandLine.arguments
guard arguments.count >= 4, getuid() == 0 else {
    print("usage (as root): cni-bench <CNI bin dir (.ci/build-cni)> <multi-nicd> <plugins dir> [iterations]")
    exit(2)
}
let binaries = arguments[1]
let iterations = arguments.count > 4 ? Int(arguments[4]) ?? 200 : 200
let suffix = "\(getpid())"
let hostNS = "mnbench-host-\(suffix)"
let podNS = "mnbench-pod-\(suffix)"
let work = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-cni-bench-\(UUID())").path

@discardableResult
func ip(_ words: String...) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = words
    process.standardError = FileHandle.nullDevice
    try? process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

func milliseconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1e6
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

func format(_ value: Double) -> String { String(format: "%.2f", value) }

// MARK: - Setup: a host namespace with four veth NICs, a pod namespace, multi-nicd inside the host namespace.

try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
ip("netns", "add", hostNS)
ip("netns", "add", podNS)
defer {
    ip("netns", "delete", podNS)
    ip("netns", "delete", hostNS)
    try? FileManager.default.removeItem(atPath: work)
}
for nic in 1...4 {
    ip("-n", hostNS, "link", "add", "eth\(nic)", "type", "veth", "peer", "name", "peer\(nic)")
    ip("-n", hostNS, "addr", "add", "10.0.\(nic).11/24", "dev", "eth\(nic)")
    ip("-n", hostNS, "link", "set", "eth\(nic)", "up")
    ip("-n", hostNS, "link", "set", "peer\(nic)", "up")
}
// This thread (and everything it spawns) now lives in the host namespace, as kubelet and multi-nicd would.
// setns(2) is not in Glibc's Swift overlay: look it up in libc.
typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
let namespaceFD = open("/var/run/netns/\(hostNS)", O_RDONLY)
guard namespaceFD >= 0, let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns"),
      unsafeBitCast(symbol, to: SetNamespace.self)(namespaceFD, 0x4000_0000) == 0 else { fatalError("cannot enter \(hostNS)") }
close(namespaceFD)

let pools = "[" + (1...4).map { nic in
    let vlan = "192.168.\(64 * (nic - 1))"
    return #"{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-\#(vlan).0-24"},"spec":{"podCIDR":"\#(vlan).0/24","#
        + #""vlanCIDR":"\#(vlan).0/18","netAttachDef":"net","hostName":"bench","interfaceName":"eth\#(nic)","excludes":[],"allocations":[]}}"#
}.joined(separator: ",") + "]"
try pools.write(toFile: work + "/pools.json", atomically: true, encoding: .utf8)
let daemon = Process()
daemon.executableURL = URL(fileURLWithPath: arguments[2])
daemon.arguments = ["--node-name", "bench", "--port", "0", "--socket", work + "/d.sock", "--state-dir", work + "/state",
                    "--plugins-dir", arguments[3], "--pools-file", work + "/pools.json", "--rt-tables", work + "/rt_tables",
                    "--virtual-kinds", "veth", "--quarantine-seconds", "0", "--log-level", "error"]
daemon.standardError = FileHandle.nullDevice
try daemon.run()
defer { daemon.terminate(); daemon.waitUntilExit() }
let status = DaemonClient(socketPath: work + "/d.sock", timeoutSeconds: 1)
var ready = false
for _ in 0..<500 where !ready {
    ready = (try? status.get(DaemonAPI.statusPath, as: DaemonStatus.self)) != nil
    if !ready { usleep(10_000) }
}
guard ready else { fatalError("multi-nicd did not start") }

// The node's paths reach multi-nic through its environment (as Multus passes its own), never through the NetConf.
let runner = DelegateRunner(searchPath: [binaries, "/usr/lib/cni"],
                            environment: ["MULTINIC_SOCKET": "\(work)/d.sock", "MULTINIC_CNI_STATE_DIR": "\(work)/cni",
                                          "MULTINIC_CNI_LOG": "\(work)/cni.log"])
let netns = "/var/run/netns/\(podNS)"
let podArgs = "IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=p;K8S_POD_UID=u"

/// `native`: the daemon configures the NICs (the default); otherwise `nativeAttach: false`, one delegate per NIC.
func multiNICConfig(nics: Int, native: Bool) throws -> JSONValue {
    let masterNets = (1...nics).map { "\"10.0.\($0).0/24\"" }.joined(separator: ",")
    return try JSONValue.parse(#"{"cniVersion":"1.0.0","name":"net","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"#
        + #""plugin":{"cniVersion":"1.0.0","type":"macvlan","mode":"bridge"},"masterNets":[\#(masterNets)],"multiNICIPAM":true,"#
        + #""nativeAttach":\#(native)}"#)
}

func macvlanConfig(nic: Int, host: Int) throws -> JSONValue {
    try JSONValue.parse(#"{"cniVersion":"1.0.0","name":"net","type":"macvlan","master":"eth\#(nic + 1)","mode":"bridge","#
        + #""ipam":{"type":"static","addresses":[{"address":"192.168.\#(64 * nic + 32).\#(host)/18"}]}}"#)
}

/// The daemon's own time per request on `path` since the last call (its request histogram's sum and count): the part
/// of a CNI call spent inside multi-nicd, the rest being the CNI process and the transport.
var lastDaemonTotals: [String: (sum: Double, count: Double)] = [:]
@MainActor func daemonMilliseconds(_ path: String) -> Double {
    guard let answer = try? UnixHTTPExchange.perform(socketPath: work + "/d.sock", method: "GET", path: "/metrics", body: nil,
                                                     timeoutSeconds: 5) else { return .nan }
    var sum = 0.0, count = 0.0
    for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where line.contains("path=\"\(path)\"") {
        let value = Double(line.split(separator: " ").last ?? "") ?? 0
        if line.hasPrefix("multinic_request_duration_seconds_sum") { sum = value }
        if line.hasPrefix("multinic_request_duration_seconds_count") { count = value }
    }
    let previous = lastDaemonTotals[path] ?? (0, 0)
    lastDaemonTotals[path] = (sum, count)
    return count > previous.count ? (sum - previous.sum) / (count - previous.count) * 1000 : .nan
}

print("CNI latency, \(iterations) pods per case (ms; ADD and DEL of one pod)")
print("NICs  path      multi-nic ADD p50/p99   direct ADD p50/p99   ratio p50 | multi-nic DEL p50/p99   direct DEL p50/p99   ratio p50"
      + " | in multi-nicd ADD/DEL (mean)")
for nics in [1, 2, 4] {
  for native in [true, false] {
    let config = try multiNICConfig(nics: nics, native: native)
    var (ours, direct, oursDel, directDel) = ([Double](), [Double](), [Double](), [Double]())
    for iteration in 0..<(iterations + 10) {
        let container = "b\(nics)-\(native)-\(iteration)"
        var start = milliseconds()
        _ = try runner.run("multi-nic", command: .add, containerID: container, netns: netns, ifName: "net1", args: podArgs, config: config)
        let add = milliseconds() - start
        start = milliseconds()
        _ = try runner.run("multi-nic", command: .del, containerID: container, netns: netns, ifName: "net1", args: podArgs, config: config)
        let del = milliseconds() - start
        // The same delegate work without MultiNIC: one macvlan per NIC with a static address.
        start = milliseconds()
        for nic in 0..<nics {
            _ = try runner.run("macvlan", command: .add, containerID: container, netns: netns, ifName: "net1-\(nic)", args: podArgs,
                               config: macvlanConfig(nic: nic, host: 2 + iteration % 200))
        }
        let directAdd = milliseconds() - start
        start = milliseconds()
        for nic in 0..<nics {
            _ = try runner.run("macvlan", command: .del, containerID: container, netns: netns, ifName: "net1-\(nic)", args: podArgs,
                               config: macvlanConfig(nic: nic, host: 2 + iteration % 200))
        }
        let directDelete = milliseconds() - start
        if iteration == 9 {
            _ = daemonMilliseconds("/attach")
            _ = daemonMilliseconds("/detach")
        }
        if iteration >= 10 {
            ours.append(add)
            oursDel.append(del)
            direct.append(directAdd)
            directDel.append(directDelete)
        }
    }
    print("\(nics)     \(native ? "native  " : "delegate")  \(format(percentile(ours, 0.5)))/\(format(percentile(ours, 0.99)))"
        + "             \(format(percentile(direct, 0.5)))/\(format(percentile(direct, 0.99)))"
        + "          \(format(percentile(ours, 0.5) / percentile(direct, 0.5)))"
        + "      | \(format(percentile(oursDel, 0.5)))/\(format(percentile(oursDel, 0.99)))"
        + "             \(format(percentile(directDel, 0.5)))/\(format(percentile(directDel, 0.99)))"
        + "          \(format(percentile(oursDel, 0.5) / percentile(directDel, 0.5)))"
        + "      | \(format(daemonMilliseconds("/attach")))/\(format(daemonMilliseconds("/detach")))")
  }
}

var cold: [String: [Double]] = [:]
for _ in 0..<iterations {
    for plugin in ["multi-nic", "macvlan"] {
        let start = milliseconds()
        _ = try runner.run(plugin, command: .version, containerID: "", netns: "", ifName: "", args: "", config: .object([:]))
        cold[plugin, default: []].append(milliseconds() - start)
    }
}
let ourCold = percentile(cold["multi-nic"] ?? [0], 0.5)
let theirCold = percentile(cold["macvlan"] ?? [0], 0.5)
print("cold start VERSION p50: multi-nic \(format(ourCold)) ms, macvlan \(format(theirCold)) ms, ratio \(format(ourCold / theirCold))")

// Peak resident memory of one CNI process: a 4-NIC ADD (native) and DEL of multi-nic against one macvlan ADD, each run
// under GNU time (`/usr/bin/time -f %M`, Debian's `time`, .ci/install-deps --bench): time forks the plugin from its own
// small process, so the child's rusage is the plugin's. (Spawned from here directly, a child's ru_maxrss starts at this
// process's high-water mark: posix_spawn shares this process's memory until the exec.)
/// Runs a CNI binary under GNU time with `input` on stdin; its exit status and peak resident set (KiB, 0 unknown).
func peakKiB(_ path: String, command: String, container: String, ifName: String, input: String) -> (Int32, Int) {
    let timer = "/usr/bin/time"
    guard FileManager.default.isExecutableFile(atPath: timer) else { return (-1, 0) }
    let report = work + "/time-\(UUID().uuidString)"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: timer)
    process.arguments = ["-f", "%M", "-o", report, path]
    process.environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns, "CNI_IFNAME": ifName,
                           "CNI_PATH": "\(binaries):/usr/lib/cni", "CNI_ARGS": podArgs, "MULTINIC_SOCKET": "\(work)/d.sock",
                           "MULTINIC_CNI_STATE_DIR": "\(work)/cni", "MULTINIC_CNI_LOG": "\(work)/cni.log"]
    let stdin = Pipe()
    process.standardInput = stdin
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return (-1, 0) }
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try? stdin.fileHandleForWriting.close()
    process.waitUntilExit()
    let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
    let kib = text.split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.last ?? 0
    return (process.terminationStatus, kib)
}

let fourNICs = try multiNICConfig(nics: 4, native: true).description
let (addStatus, addKiB) = peakKiB(binaries + "/multi-nic", command: "ADD", container: "rss", ifName: "net1", input: fourNICs)
let (delStatus, delKiB) = peakKiB(binaries + "/multi-nic", command: "DEL", container: "rss", ifName: "net1", input: fourNICs)
let (macvlanStatus, macvlanKiB) = peakKiB("/usr/lib/cni/macvlan", command: "ADD", container: "rss", ifName: "net9",
                                          input: try macvlanConfig(nic: 0, host: 250).description)
_ = peakKiB("/usr/lib/cni/macvlan", command: "DEL", container: "rss", ifName: "net9", input: try macvlanConfig(nic: 0, host: 250).description)
if addKiB == 0 {
    print("peak RSS of one CNI process: not measured (needs GNU time: .ci/install-deps --bench)")
} else {
    print(String(format: "peak RSS of one CNI process: multi-nic ADD (4 NICs) %.1f MiB, DEL %.1f MiB; macvlan ADD (1 NIC) %.1f MiB; "
                 + "ratio %.2f (exit %d/%d/%d)", Double(addKiB) / 1024, Double(delKiB) / 1024, Double(macvlanKiB) / 1024,
                 Double(addKiB) / Double(max(macvlanKiB, 1)), addStatus, delStatus, macvlanStatus))
}
