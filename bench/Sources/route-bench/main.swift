// Route apply: N routes through MultiNIC's netlink batch vs `ip -batch` of the same routes, in a throwaway network
// namespace (needs root). Usage: route-bench [routes] [rounds]
import Foundation
import MultiNICCore
import MultiNICNetlink

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8000 : 8000
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 5 : 5

@discardableResult
func ip(_ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    try? process.run()
    process.waitUntilExit()
    return process.terminationStatus
}

guard getuid() == 0 else {
    print("route-bench: needs root (creates a network namespace)")
    exit(0)
}
let namespace = "mnbench-\(UInt32.random(in: 0...UInt32.max))"
guard ip(["netns", "add", namespace]) == 0 else { fatalError("ip netns add failed") }
defer { ip(["netns", "delete", namespace]) }
for command in [["link", "add", "veth0", "type", "veth", "peer", "name", "veth1"], ["addr", "add", "10.77.0.1/16", "dev", "veth0"],
                ["link", "set", "veth0", "up"], ["link", "set", "veth1", "up"]] {
    ip(["-n", namespace] + command)
}
let netlink = try NetworkNamespace.netlink(path: "/var/run/netns/\(namespace)")
let veth0 = try netlink.links().first { $0.name == "veth0" }!.index
let destinations = (0..<count).map { IPNetwork(address: IPAddress(v4: 0xAC00_0000 + UInt32($0) << 6), prefixLength: 26) }
let gateway = IPAddress("10.77.0.2")!
let batchFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(namespace).batch").path
defer { try? FileManager.default.removeItem(atPath: batchFile) }
try destinations.map { "route replace \($0) via \(gateway) dev veth0 table 200 proto 167\n" }.joined()
    .write(toFile: batchFile, atomically: true, encoding: .utf8)
let changes = destinations.map { RouteChange.replace(RouteInfo(table: 201, destination: $0, gateway: gateway, outputIndex: veth0)) }

let clock = ContinuousClock()
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
var ipTimes: [Double] = []
var netlinkTimes: [Double] = []
for _ in 0..<rounds {
    ip(["-n", namespace, "route", "flush", "table", "200"])
    _ = try netlink.apply(try netlink.routes(table: 201).map(RouteChange.delete))
    let ipStart = clock.now
    guard ip(["-n", namespace, "-batch", batchFile]) == 0 else { fatalError("ip -batch failed") }
    ipTimes.append(seconds(clock.now - ipStart))
    let netlinkStart = clock.now
    let failures = try netlink.apply(changes)
    netlinkTimes.append(seconds(clock.now - netlinkStart))
    precondition(failures.isEmpty, "\(failures.prefix(3))")
}
let installed = try netlink.routes(table: 201).count
precondition(installed == count, "\(installed) of \(count) routes installed")
let ipMedian = ipTimes.sorted()[rounds / 2]
let netlinkMedian = netlinkTimes.sorted()[rounds / 2]
print("route apply, \(count) routes (median of \(rounds)): MultiNIC netlink batch \(String(format: "%.1f", netlinkMedian * 1000)) ms, "
    + "ip -batch \(String(format: "%.1f", ipMedian * 1000)) ms, ratio \(String(format: "%.2f", netlinkMedian / ipMedian))")
