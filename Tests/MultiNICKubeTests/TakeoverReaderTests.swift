import Foundation
import MultiNICCore
import MultiNICKube
import MultiNICKubeFake
import MultiNICManifests
import MultiNICTakeover
import MultiNICTestSupport
import Testing

/// The original's objects read from an API server (the in-test one, following the API's conventions) give the same
/// plan as the same objects read from a file.
@Suite struct TakeoverReaderTests {
    static func fixture(_ name: String) throws -> [JSONValue] {
        try ManifestLoader.load(path: repositoryRoot.appendingPathComponent("Tests/Fixtures/Takeover/\(name).yaml").path).map(\.json)
    }

    /// POSTs each object to its collection, as `kubectl create -f` would.
    static func create(_ objects: [JSONValue], on client: KubeClient) async throws {
        for object in objects {
            guard let root = object.objectValue, let apiVersion = root["apiVersion"]?.stringValue, let kind = root["kind"]?.stringValue else { continue }
            let namespace = root["metadata"]?.objectValue?["namespace"]?.stringValue
            let plural = kind == NetworkAttachmentDefinitionSpec.kind ? NetworkAttachmentDefinitionSpec.plural : KubePaths.plural(ofKind: kind)
            let path = KubePaths.collection(apiVersion: apiVersion, plural: plural, namespace: namespace)
            let created = try await client.call("POST", path, body: Array(object.description.utf8))
            // A create ignores the status; the original's controller wrote it through the status subresource.
            guard let status = root["status"], var stored = try JSONValue.parse(String(decoding: created, as: UTF8.self)).objectValue,
                  root["kind"]?.stringValue != "DaemonSet" else { continue }
            stored["status"] = status
            let name = root["metadata"]?.objectValue?["name"]?.stringValue ?? ""
            _ = try await client.call("PUT", path + "/" + KubePaths.escape(name) + "/status", body: Array(JSONValue.object(stored).description.utf8))
        }
    }

    @Test func theClusterReadsAsTheFileDoes() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let objects = try Self.fixture("cluster")
        try await Self.create(objects, on: client)

        let fromAPI = TakeoverPlanner.plan(try await LegacyClusterReader.read(client))
        let fromFile = TakeoverPlanner.plan(try LegacyCluster(objects: objects))
        #expect(fromAPI.networks == fromFile.networks)
        #expect(fromAPI.conflicts == fromFile.conflicts && fromAPI.conflicts.isEmpty)
        #expect(fromAPI.controller == LegacyWorkload(kind: "Deployment", namespace: "multi-nic-cni-operator-system",
                                                     name: "multi-nic-cni-operator-controller-manager", replicas: 1))
        #expect(fromAPI.daemon?.port == 11000 && fromAPI.daemon?.namespace == "multi-nic-cni-operator-system")
        #expect(fromAPI.liveAddresses == 6)
        #expect(fromAPI.networks.first?.nadNamespaces == ["default", "team-a"], "the unrelated sriov NAD is not the original's")
    }

    @Test func anEmptyClusterHasNothingToTakeOver() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let plan = TakeoverPlanner.plan(try await LegacyClusterReader.read(client))
        #expect(plan.networks.isEmpty && plan.conflicts.isEmpty && plan.controller == nil && plan.daemon == nil)
    }
}
