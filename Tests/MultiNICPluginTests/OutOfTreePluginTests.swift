import Foundation
import MultiNICCore
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

/// A backend and a policy from their own packages under examples/plugins, built separately and dropped into a
/// plugins directory: the host (this test binary) is not rebuilt and loads them.
@Suite(.ownThread) struct OutOfTreePluginTests {
    /// Builds an example package with `swift build` and returns its library.
    static func build(_ package: String, product: String) throws -> URL {
        let directory = repositoryRoot.appendingPathComponent("examples/plugins/\(package)")
        let (status, output) = try CapturedRun.run(URL(fileURLWithPath: "/usr/bin/env"),
                                                   ["swift", "build", "--package-path", directory.path, "--product", product])
        guard status == 0 else {
            throw PluginTestFailure("swift build of examples/plugins/\(package) failed:\n\(output)")
        }
        return directory.appendingPathComponent(".build/debug/lib\(product).so")
    }

    @Test func droppedInPluginsLoadWithoutRebuildingTheHost() throws {
        let bridge = try Self.build("bridge", product: "multinic-backend-bridge")
        let roundRobin = try Self.build("roundrobin", product: "multinic-policy-roundrobin")
        let macvlan = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-backend-macvlan").first)
        try BuiltPlugins.withDirectory([("libmultinic-backend-bridge.so", bridge),
                                        ("libmultinic-policy-roundrobin.so", roundRobin),
                                        ("libmultinic-backend-macvlan.so", macvlan)]) { directory in
            let (registry, errors) = PluginRegistry.load(directory: directory)
            #expect(errors.isEmpty)
            #expect(registry.backendNames == ["bridge", "macvlan"])
            #expect(registry.policyNames == ["roundrobin"])
            #expect(registry.plugins.first { $0.names == ["bridge"] }?.version == "0.1.0-example")

            let network = MultiNicNetwork(metadata: ObjectMeta(name: "lab"), spec: MultiNicNetworkSpec(
                subnet: "", ipam: #"{"type":"host-local"}"#,
                plugin: PluginSpec(cniVersion: "1.0.0", type: "bridge", args: ["bridgePrefix": "br-"])))
            let rendering = try registry.backend("bridge").render(NetworkRenderInput(network: network, hosts: []))
            let attachment = NICAttachment(networkName: "lab", cniVersion: "1.0.0", plugin: rendering.plugin,
                                           master: "eth1", address: try #require(IPNetwork("10.9.0.5/24")))
            let delegate = try registry.backend("bridge").delegateConfig(for: attachment).objectValue
            #expect(delegate?["bridge"] == .string("br-eth1"))
            #expect(delegate?["bridgePrefix"] == nil)

            let nics = [NICCandidate(name: "eth1", netAddress: "10.0.1.0/24", attachments: 2),
                        NICCandidate(name: "eth2", netAddress: "10.0.2.0/24", attachments: 1)]
            let selection = try registry.policy("roundrobin").select(nics, request: PodRequest(), context: SelectionContext())
            #expect(selection.chosen.map(\.name) == ["eth2"])
        }
    }
}
