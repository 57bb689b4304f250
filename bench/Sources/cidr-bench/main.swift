// CIDR engine timings: a fresh compute of 4096 hosts × 8 interfaces, then joins of single hosts into that state.
// Prints median and p90 over repeated runs. Targets (issue 2): fresh ≤ 10 ms, join ≤ 0.1 ms.
import Foundation
import MultiNICCore

let hostCount = 4096
let interfaceCount = 8
let joinCount = 1000
let rounds = 15

let nets = (0..<interfaceCount).map { "10.\(100 + $0).0.0/16" }
let ipam = #"{"type":"multi-nic-ipam","hostBlock":13,"interfaceBlock":3,"vlanMode":"l3","excludeCIDRs":["10.0.0.0/24"]}"#
let network = MultiNicNetwork(
    metadata: ObjectMeta(name: "bench"),
    spec: MultiNicNetworkSpec(subnet: "10.0.0.0/8", ipam: ipam, multiNICIPAM: true,
                              plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan")))

func host(_ index: Int) -> HostInterfaceSpec {
    HostInterfaceSpec(hostName: "node-\(index)", interfaces: nets.enumerated().map { position, net in
        InterfaceInfo(interfaceName: "eth\(position + 1)", netAddress: net,
                      hostIP: "10.\(100 + position).\(index / 250).\(index % 250 + 1)")
    })
}

let hosts = (0..<hostCount).map(host)
let joiners = (hostCount..<(hostCount + joinCount)).map(host)
let clock = ContinuousClock()

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func report(_ name: String, _ samples: [Double], unit: String = "ms") {
    let sorted = samples.sorted()
    let median = sorted[sorted.count / 2]
    let p90 = sorted[min(sorted.count - 1, sorted.count * 9 / 10)]
    print("\(name): median \(String(format3(median))) \(unit), p90 \(String(format3(p90))) \(unit) (\(samples.count) runs)")
}

func format3(_ value: Double) -> String {
    let scaled = (value * 1000).rounded() / 1000
    return String(scaled)
}

if CommandLine.arguments.contains("--profile-plan") {
    // A loop of fresh plans only, for `perf record`.
    for _ in 0..<40 {
        var plan = try CIDRPlan(network: network)
        plan.reconcile(hosts: hosts, existingNodes: [])
        precondition(plan.blockCount == hostCount * interfaceCount)
    }
    exit(0)
}
if CommandLine.arguments.contains("--profile-export") {
    var plan = try CIDRPlan(network: network)
    plan.reconcile(hosts: hosts, existingNodes: [])
    var total = 0
    for _ in 0..<40 { total += plan.spec.cidr.count }
    print(total)
    exit(0)
}

var freshPlan: [Double] = []
var freshExport: [Double] = []
var joins: [Double] = []
var incremental: [Double] = []
var blocks = 0
for _ in 0..<rounds {
    var plan: CIDRPlan
    do { plan = try CIDRPlan(network: network) } catch { fatalError("\(error)") }
    let start = clock.now
    plan.reconcile(hosts: hosts, existingNodes: [])
    let planned = clock.now
    let spec = plan.spec
    let exported = clock.now
    blocks = spec.cidr.reduce(0) { $0 + $1.hosts.count }
    freshPlan.append(milliseconds(planned - start))
    freshExport.append(milliseconds(exported - start))

    let joinStart = clock.now
    for joiner in joiners { plan.join(joiner) }
    joins.append(milliseconds(clock.now - joinStart) / Double(joinCount))

    // The controller's full path with a previous CIDR: load it, reconcile every host, export.
    let incStart = clock.now
    do {
        var next = try CIDRPlan(network: network, previous: spec)
        next.reconcile(hosts: hosts, existingNodes: [])
        _ = next.spec
    } catch { fatalError("\(error)") }
    incremental.append(milliseconds(clock.now - incStart))
}
precondition(blocks == hostCount * interfaceCount, "expected every host placed, got \(blocks)")
print("CIDR engine, \(hostCount) hosts × \(interfaceCount) interfaces (\(blocks) pod blocks)")
report("fresh compute (plan)           ", freshPlan)
report("fresh compute (plan + CIDR spec)", freshExport)
report("join one host (into the plan)  ", joins.map { $0 * 1000 }, unit: "µs")
report("recompute from previous CIDR   ", incremental)
