import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube
import Testing

/// One network never has two owners: while the original project's controller runs and manages a network of the same
/// name, MultiNIC writes nothing for it (and removes nothing of that name when its own copy is deleted); once the
/// original's controller is scaled to 0 (`takeover apply`'s first step) MultiNIC takes the network.
@Suite struct LegacyOwnerTests {
    static let controllerPath = "/apis/apps/v1/namespaces/multi-nic-cni-operator-system/deployments"

    /// The original's network of the seed's name, its controller with `replicas`, and its NAD in `default`.
    static func installOriginal(_ client: KubeClient, replicas: Int) async throws {
        let seed = try ControllerHarness.network(ControllerHarness.seed)
        var network = try JSONValue.parse(String(decoding: try JSONEncoder().encode(seed), as: UTF8.self)).objectValue ?? [:]
        network["apiVersion"] = .string(MultiNICAPI.legacyVersion)
        _ = try await client.call("POST", "/apis/multinic.fms.io/v1/multinicnetworks", body: Array(JSONValue.object(network).description.utf8))
        let deployment = """
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\(MultiNICAPI.legacyControllerName)","namespace":"multi-nic-cni-operator-system"},
             "spec":{"replicas":\(replicas),"selector":{"matchLabels":{"control-plane":"controller-manager"}},
                     "template":{"metadata":{"labels":{"control-plane":"controller-manager"}},
                                 "spec":{"containers":[{"name":"manager","image":"ghcr.io/foundation-model-stack/multi-nic-cni-controller:v1.3.1"}]}}}}
            """
        _ = try await client.call("POST", controllerPath, body: Array(deployment.utf8))
        let config = #"{\"cniVersion\":\"0.3.0\",\"name\":\"multi-nic-sample\",\"type\":\"multi-nic\",\"daemonPort\":11000,\"subnet\":\"10.0.0.0/16\"}"#
        let nad = #"{"apiVersion":"k8s.cni.cncf.io/v1","kind":"NetworkAttachmentDefinition","metadata":{"name":"multi-nic-sample","namespace":"default","#
            + #""labels":{"multi-nic-cni-generated":"true"}},"spec":{"config":"\#(config)"}}"#
        _ = try await client.call("POST", "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions", body: Array(nad.utf8))
    }

    /// Whether the NAD in `default` is still the original's (MultiNIC's is owned by its MultiNicNetwork).
    static func nadIsTheOriginals(_ store: any ResourceStore) async throws -> Bool {
        let nad = try #require(try await store.get(NetworkAttachmentDefinitionSpec.self, name: "multi-nic-sample", namespace: "default"))
        return nad.metadata.ownerReferences == nil && nad.spec.config.contains("10.0.0.0/16")
    }

    @Test func aNetworkTheOriginalManagesIsLeftAloneUntilItsControllerIsStopped() async throws {
        let harness = try await ControllerHarness.start(.kubernetes)
        let server = try #require(harness.server)
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let store = harness.store
        _ = try await store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        for index in 0..<2 { try await harness.join("node-\(index)", host: index) }
        try await Self.installOriginal(client, replicas: 1)
        _ = try await store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())

        let refused = try #require(try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status)
        let pools = refused.conditions?.first { $0.type == NetworkConditions.poolsReady }
        #expect(pools?.status == .false && pools?.reason == "OwnedByMultiNicCNI", "\(refused)")
        #expect(pools?.message.contains("multi-nic-cni-operator-system/\(MultiNICAPI.legacyControllerName)") == true)
        #expect(try await store.get(CIDRSpec.self, name: "multi-nic-sample") == nil, "no CIDR carved beside the original's")
        #expect(try await store.list(IPPoolSpec.self).isEmpty)
        #expect(await harness.fleet.routes.values.allSatisfy { $0["multi-nic-sample"] == nil }, "no routes pushed")
        #expect(try await Self.nadIsTheOriginals(store), "the original's NAD is untouched")

        // Deleting MultiNIC's copy meanwhile removes nothing of that name: the NAD is the original's.
        try await store.delete(MultiNicNetworkSpec.self, name: "multi-nic-sample", namespace: nil)
        #expect(await harness.settle())
        #expect(try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample") == nil, "the finalizer went")
        #expect(try await Self.nadIsTheOriginals(store))

        // The original's controller scaled to 0 (what takeover apply does first): MultiNIC owns the network.
        _ = try await client.call("PATCH", Self.controllerPath + "/" + MultiNICAPI.legacyControllerName,
                                  body: Array(#"{"spec":{"replicas":0}}"#.utf8), contentType: KubeClient.PatchType.merge.rawValue)
        _ = try await store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())
        let owned = try #require(try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status)
        #expect(owned.configStatus == .success, "\(owned)")
        #expect(try await store.get(CIDRSpec.self, name: "multi-nic-sample") != nil)
        #expect(try await !Self.nadIsTheOriginals(store), "MultiNIC's NAD replaced the original's")
    }
}
