// Controller convergence for N simulated nodes (default 1000) with 2 NICs each: in-process daemons answer
// /interface, take pools and acknowledge route sets. Measures the time from creating the network to every CIDR
// block, IPPool and NAD written and every node's full route set acknowledged, plus the writes and pushes it took.
// Usage: controller-bench <plugins dir> [nodes]
import BenchFleet
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICPluginHost
import MultiNICRender

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: controller-bench <plugins dir> [nodes]")
    exit(2)
}
let count = arguments.count > 2 ? Int(arguments[2]) ?? 1000 : 1000
let loaded = PluginRegistry.load(directory: arguments[1])
let store = try EmbeddedStore()
let fleet = SimulatedFleet(count: count)
let controller = MultiNICController(store: store, fleet: fleet, renderer: NetworkRenderer(registry: loaded.registry),
                                    hostPeriod: .seconds(3600))
_ = try await store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
for index in 0..<count {
    _ = try await store.create(ClusterNode(metadata: ObjectMeta(name: SimulatedFleet.name(index)), spec: NodeSpec()))
}
let clock = ContinuousClock()
let discoveryStart = clock.now
let running = Task { await controller.run(workers: 8) }
while try await store.list(HostInterfaceSpec.self).count < count { try await Task.sleep(for: .milliseconds(10)) }
let discovered = clock.now - discoveryStart
let writesBefore = await store.writes

let network = MultiNicNetwork(metadata: ObjectMeta(name: "bench"), spec: MultiNicNetworkSpec(
    subnet: "172.16.0.0/12", ipam: #"{"type":"multi-nic-ipam","hostBlock":10,"interfaceBlock":1,"vlanMode":"l3"}"#,
    multiNICIPAM: true, plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan", args: ["mode": "bridge"]),
    namespaces: ["default"]))
let start = clock.now
_ = try await store.create(network)
let expectedRoutes = (count - 1) * 2
while true {
    let pools = try await store.list(IPPoolSpec.self).count
    let nad = try await store.get(NetworkAttachmentDefinitionSpec.self, name: "bench", namespace: "default")
    let status = try await store.get(MultiNicNetworkSpec.self, name: "bench")?.status
    if pools == count * 2, nad != nil, await fleet.complete(expectedRoutes: expectedRoutes), status?.routeStatus == .success { break }
    if clock.now - start > .seconds(120) {
        print("did not converge in 120 s: pools \(pools), NAD \(nad != nil), status \(String(describing: status?.routeStatus))")
        exit(1)
    }
    try await Task.sleep(for: .milliseconds(5))
}
let converged = clock.now - start
running.cancel()
print("controller, \(count) simulated nodes × 2 NICs:")
print("  discovery of every node (HostInterfaces written): \(discovered)")
print("  network created → CIDR, \(count * 2) IPPools, NAD written, every route set (\(expectedRoutes) routes per node) acknowledged,"
      + " status Success: \(converged)")
print("  store writes: \(await store.writes - writesBefore); pool pushes: \(await fleet.poolPushes); route pushes: \(await fleet.routePushes)")
