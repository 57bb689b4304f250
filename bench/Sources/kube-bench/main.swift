// Controller convergence on the Kubernetes store: N simulated nodes (default 1000) × 2 NICs, the reconcilers talking to
// the in-process API server (MultiNICKubeFake) through the libcurl client, as the operator does. Reports the time
// from creating the network until every daemon serves it (its pools pushed, every node's route set acknowledged, the
// NAD written, status Success), then until the IPPool mirror is complete, and the API requests the operator issued
// (by verb and resource).
// Usage: kube-bench <plugins dir> [nodes] [qps] [--no-cache] [--operator-process]
//   qps: the client's rate limit (default: unlimited in practice); --no-cache: every read goes to the API server
//   instead of the informers, as before they existed; --operator-process: the operator (controller, informers,
//   client, and the simulated daemons it pushes to) runs in a child process, so that its peak memory is its own.
import BenchFleet
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube
import MultiNICOperator
import MultiNICKubeFake
import MultiNICPluginHost
import MultiNICRender
import Synchronization

if CommandLine.arguments.count == 8, CommandLine.arguments[1] == "--operator-child" {
    try await OperatorChild.run(Array(CommandLine.arguments.dropFirst(2)))
}
let noCache = CommandLine.arguments.contains("--no-cache")
let separate = CommandLine.arguments.contains("--operator-process")
let arguments = CommandLine.arguments.filter { $0 != "--no-cache" && $0 != "--operator-process" }
guard arguments.count >= 2 else {
    print("usage: kube-bench <plugins dir> [nodes] [qps]")
    exit(2)
}
let count = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let qps = arguments.count > 3 ? Double(arguments[3]) ?? 100_000 : 100_000
let server = try await FakeAPIServer()
let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: qps, burst: Int(max(qps * 2, 1)))
// The cluster's nodes exist before the operator starts: created by an unlimited client (not the operator's budget).
let admin = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 100_000, burst: 200_000)
_ = try await admin.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
for index in 0..<count {
    _ = try await admin.create(ClusterNode(metadata: ObjectMeta(name: SimulatedFleet.name(index)), spec: NodeSpec()))
}

/// Objects of a collection as the server holds them (not counted as requests).
func stored(_ collection: String) -> [JSONValue] { server.objects(collection) }
let group = MultiNicNetworkSpec.apiVersion
let clock = ContinuousClock()
let setupRequests = server.log.count
let discoveryStart = clock.now
let operatorRun: OperatorRun = separate
    ? try OperatorChild.spawn(url: server.url, token: server.token ?? "", plugins: arguments[1], count: count, qps: qps, noCache: noCache)
    : OperatorRun.inProcess(client: client, plugins: arguments[1], count: count, noCache: noCache)
// Polled every 100 ms with counts only: copying thousands of objects under the server's lock every few ms would slow
// the server the operator is measured against.
while server.count("apis/\(group)/hostinterfaces") < count { try await Task.sleep(for: .milliseconds(100)) }
let discovered = clock.now - discoveryStart
let discoveryRequests = server.log.count - setupRequests

// Enough host bits for every node (10 up to 1024 nodes; 13 for 5000).
let hostBlock = max(10, Int(ceil(log2(Double(max(count, 1))))))
let network = MultiNicNetwork(metadata: ObjectMeta(name: "bench"), spec: MultiNicNetworkSpec(
    subnet: "172.16.0.0/12", ipam: #"{"type":"multi-nic-ipam","hostBlock":\#(hostBlock),"interfaceBlock":1,"vlanMode":"l3"}"#,
    multiNICIPAM: true, plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan", args: ["mode": "bridge"]),
    namespaces: ["default"]))
_ = try await client.create(network)
let start = clock.now
let requestsBefore = server.log.count
let expectedRoutes = (count - 1) * 2
var served: Duration?
var servedRequests = 0
while true {
    let pools = server.count("apis/\(group)/ippools")
    if served == nil {
        let nad = server.count("apis/\(NetworkAttachmentDefinitionSpec.apiVersion)/network-attachment-definitions") > 0
        let routeStatus = stored("apis/\(group)/multinicnetworks").first?.objectValue?["status"]?.objectValue?["routeStatus"]?.stringValue
        if nad, routeStatus == "Success", await operatorRun.complete(expectedRoutes: expectedRoutes) {
            served = clock.now - start
            servedRequests = server.log.count - requestsBefore
        }
    }
    if served != nil, pools == count * 2 { break }
    if clock.now - start > .seconds(1200) {
        print("did not converge in 1200 s: pools \(pools), served \(served.map { "\($0)" } ?? "no")")
        exit(1)
    }
    try await Task.sleep(for: .milliseconds(100))
}
let converged = clock.now - start
let convergeRequests = server.log.count - requestsBefore
// Quiet period: what a converged operator keeps asking for.
try await Task.sleep(for: .seconds(5))
let idleRequests = server.log.count - requestsBefore - convergeRequests
let operatorPeakKiB = operatorRun.peakKiB()
let pushes = await operatorRun.pushes()
operatorRun.stop()
server.stop()

/// "GET ippools", "PUT multinicnetworks/status", … with counts, most first.
func breakdown(_ lines: ArraySlice<String>) -> String {
    var counts: [String: Int] = [:]
    for line in lines {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { continue }
        let path = parts[1].split(separator: "?").first.map(String.init) ?? ""
        var segments = path.split(separator: "/").map(String.init)
        segments.removeFirst(segments.first == "api" ? 2 : 3)
        if segments.first == "namespaces", segments.count > 2 { segments.removeFirst(2) }
        var resource = segments.first ?? "?"
        if segments.count > 2 { resource += "/" + segments[2] }
        let verb = parts[1].contains("watch=") ? "WATCH" : String(parts[0])
        counts["\(verb) \(resource)", default: 0] += 1
    }
    return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { "\($0.key) \($0.value)" }
        .joined(separator: ", ")
}
let log = server.log.all
print("controller on the Kubernetes store (in-process API server), \(count) simulated nodes × 2 NICs, client qps \(Int(qps)), \(noCache ? "no informers" : "informers"):")
print("  discovery (every HostInterface written): \(discovered), \(discoveryRequests) API requests")
print("    \(breakdown(log[setupRequests..<(setupRequests + discoveryRequests)]))")
print("  network created → every daemon serving it (pools pushed, every route set acknowledged, NAD, status Success): \(served ?? converged), \(servedRequests) API requests")
print("  network created → IPPool mirror complete (\(count * 2) IPPools): \(converged), \(convergeRequests) API requests")
print("    \(breakdown(log[requestsBefore..<(requestsBefore + convergeRequests)]))")
print("  pool pushes \(pushes.pools), route pushes \(pushes.routes); requests in the 5 s after convergence: \(idleRequests)")
print("    \(breakdown(log[(requestsBefore + convergeRequests)...].prefix(idleRequests)))")
// Peak resident memory: of the operator's own process with --operator-process, else of this process (the operator
// *and* the in-process API server with every object: an upper bound). Goal: the operator ≤ 200 MB at 5000 nodes.
if separate {
    print(String(format: "  peak resident memory of the operator process (controller, informers, client, simulated daemons): %.1f MiB",
                 Double(operatorPeakKiB) / 1024))
} else {
    print(String(format: "  peak resident memory of operator + in-process API server: %.1f MiB", Double(operatorPeakKiB) / 1024))
}
