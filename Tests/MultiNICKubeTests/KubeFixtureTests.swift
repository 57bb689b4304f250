import Foundation
@testable import MultiNICKube
import MultiNICCore
import Testing

/// Decoding real API answers: Status bodies, a list page with `continue`, a watch stream split anywhere, kubeconfig.
@Suite struct KubeFixtureTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")))
    }

    @Test func statusBodiesBecomeTypedErrors() throws {
        let invalid = KubeError.from(code: 422, body: try Self.fixture("status-422.json"))
        #expect(invalid.code == 422 && invalid.description.contains("spec.subnet: Invalid value") && !invalid.isTransient)
        guard case .api(_, let status) = KubeError.from(code: 409, body: try Self.fixture("status-409.json")) else {
            Issue.record("not an API error")
            return
        }
        #expect(status.reason == "Conflict" && status.details?.name == "multi-nic-sample")
        #expect(KubeError.from(code: 404, body: try Self.fixture("status-404.json")).description.contains("not found"))
        #expect(KubeError.from(code: 410, body: try Self.fixture("status-410.json")).code == 410)
        #expect(KubeError.from(code: 503, body: Array("upstream connect error".utf8)).isTransient)
    }

    @Test func aListPageCarriesItsContinueToken() throws {
        let body = try Self.fixture("list-page.json")
        let page = try JSONDecoder().decode(ResourceList<MultiNicNetworkSpec>.self, from: Data(body))
        let meta = try JSONDecoder().decode(ListEnvelope.self, from: Data(body))
        #expect(page.items.map(\.name) == ["multi-nic-sample"] && page.items[0].status?.routeStatus == .success)
        #expect(meta.metadata?.resourceVersion == "4712" && meta.metadata?.continue?.hasPrefix("eyJ2") == true)
    }

    @Test func watchStreamsDecodeWhateverTheChunking() throws {
        let stream = try Self.fixture("watch-stream.jsonl")
        func describe(_ events: [KubeWatchEvent<MultiNicNetwork>]) -> [String] {
            events.map { event in
                switch event {
                case .added(let object): "ADDED \(object.name) \(object.metadata.resourceVersion ?? "")"
                case .modified(let object): "MODIFIED \(object.spec.subnet)"
                case .deleted(let object): "DELETED \(object.name)"
                case .bookmark(let version): "BOOKMARK \(version)"
                case .error(let status): "ERROR \(status.code ?? 0)"
                }
            }
        }
        var whole = WatchDecoder<MultiNicNetworkSpec>()
        let expected = describe(try whole.feed(stream))
        #expect(expected == ["ADDED a 5001", "MODIFIED 10.0.0.0/8", "BOOKMARK 5010", "DELETED a", "ERROR 410"])
        for split in stride(from: 1, to: stream.count, by: 7) {
            var decoder = WatchDecoder<MultiNicNetworkSpec>()
            let events = try decoder.feed(Array(stream[..<split])) + decoder.feed(Array(stream[split...]))
            #expect(describe(events) == expected, "split at \(split)")
        }
        var broken = WatchDecoder<MultiNicNetworkSpec>()
        #expect(throws: KubeError.self) { try broken.feed(Array("{\"type\":\"ADDED\",\"object\":{}}\n".utf8)) }
    }

    /// kube-apiserver's NodeList as it answers it: items without apiVersion/kind (kubernetes/kubernetes#3030).
    @Test func itemsOfABuiltInListInheritTheListsTypeMetadata() async throws {
        let body = try Self.fixture("node-list.json")
        #expect(throws: (any Error).self, "without the list's type metadata an item does not decode") {
            _ = try JSONDecoder().decode(ResourceList<NodeSpec>.self, from: Data(body))
        }
        let client = KubeClient(config: KubeConfig(server: "http://unused", token: "t"))
        let nodes = try client.decode(ResourceList<NodeSpec>.self, body, itemTypeMeta: ListItemTypeMeta(listAPIVersion: "v1", listKind: "NodeList"))
        #expect(nodes.items.map(\.name) == ["worker-0", "worker-1"] && nodes.items.allSatisfy { $0.apiVersion == "v1" && $0.kind == "Node" })
        #expect(ListItemTypeMeta(listAPIVersion: "apps/v1", listKind: "DaemonSetList") == ListItemTypeMeta(apiVersion: "apps/v1", kind: "DaemonSet"))
        #expect(ListItemTypeMeta(listAPIVersion: "v1", listKind: "List") == nil && ListItemTypeMeta(listAPIVersion: nil, listKind: "NodeList") == nil)
        // An item that names another kind is still refused.
        let wrong = Array(#"{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[{"kind":"Pod","metadata":{"name":"x"},"spec":{}}]}"#.utf8)
        #expect(throws: KubeError.self) {
            _ = try client.decode(ResourceList<NodeSpec>.self, wrong, itemTypeMeta: ListItemTypeMeta(apiVersion: "v1", kind: "Node"))
        }
    }

    /// A stream that ends without a final newline still delivers its last event.
    @Test func aFinalUnterminatedWatchLineIsDecoded() throws {
        var decoder = WatchDecoder<MultiNicNetworkSpec>()
        let text = Array(#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}"#.utf8)
        #expect(try decoder.feed(text).isEmpty)
        guard case .bookmark("7")? = try decoder.finish() else { Issue.record("the last line was dropped"); return }
        #expect(try decoder.finish().map { _ in true } == nil, "nothing twice")
        var blank = WatchDecoder<MultiNicNetworkSpec>()
        _ = try blank.feed(Array("\r\n  ".utf8))
        #expect(try blank.finish().map { _ in true } == nil)
    }

    @Test func kubeconfigCurrentContextAndInlineCertificates() throws {
        let directory = NSTemporaryDirectory() + "multinic-kubeconfig-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kubeconfig.yaml").path
        let config = try KubeConfig.kubeconfig(path: path, materialDirectory: directory)
        #expect(config.server == "https://203.0.113.10:6443" && config.namespace == "multi-nic-cni-operator" && config.token == nil)
        #expect(try String(contentsOfFile: try #require(config.tls.caFile), encoding: .utf8).contains("fake-ca"))
        #expect(try String(contentsOfFile: try #require(config.tls.clientKeyFile), encoding: .utf8).contains("fake-key"))
        let mode = try FileManager.default.attributesOfItem(atPath: try #require(config.tls.clientKeyFile))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let other = try KubeConfig.kubeconfig(path: path, context: "other", materialDirectory: directory)
        #expect(other.token == "robot-token" && other.tls.skipVerification && other.namespace == "default")
        #expect(throws: KubeError.self) { try KubeConfig.kubeconfig(path: path, context: "nope", materialDirectory: directory) }
    }

    @Test func inlineKeyMaterialGoesToAFreshPrivateDirectoryNeverThroughASymlink() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kubeconfig.yaml").path
        // The old predictable path, with a planted symlink to a file the attacker wants overwritten.
        let victim = NSTemporaryDirectory() + "multinic-victim-\(UUID())"
        try "keep".write(toFile: victim, atomically: true, encoding: .utf8)
        let predictable = NSTemporaryDirectory() + "multinic-kube-\(getpid())"
        try? FileManager.default.createDirectory(atPath: predictable, withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: predictable + "/client.key", withDestinationPath: victim)
        defer { [victim, predictable].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let config = try KubeConfig.kubeconfig(path: path)
        let key = try #require(config.tls.clientKeyFile)
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: key).deletingLastPathComponent().path) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")
        #expect(!key.hasPrefix(predictable + "/"))
        let directoryMode = try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: key).deletingLastPathComponent().path)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int == 0o600)
    }

    @Test func inClusterConfigReadsTheServiceAccount() throws {
        let account = NSTemporaryDirectory() + "multinic-sa-\(UUID())"
        defer { try? FileManager.default.removeItem(atPath: account) }
        try FileManager.default.createDirectory(atPath: account, withIntermediateDirectories: true)
        try "token-1\n".write(toFile: account + "/token", atomically: true, encoding: .utf8)
        try "multi-nic-cni-operator".write(toFile: account + "/namespace", atomically: true, encoding: .utf8)
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                                              accountDirectory: account)
        #expect(config.server == "https://10.96.0.1:443" && config.tls.caFile == account + "/ca.crt" && config.namespace == "multi-nic-cni-operator")
        let client = KubeClient(config: config)
        #expect(client.bearerToken() == "token-1")
        // The kubelet rotates the token: the next request reads the new one.
        try? FileManager.default.removeItem(atPath: account + "/token")
        try "token-2".write(toFile: account + "/token", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(5)], ofItemAtPath: account + "/token")
        #expect(client.bearerToken() == "token-2")
        #expect(throws: KubeError.self) { try KubeConfig.inCluster(environment: [:], accountDirectory: account) }
    }

    @Test func pathsFollowTheAPIsLayout() {
        #expect(KubePaths.object(MultiNicNetworkSpec.self, name: "a", namespace: "x") == "/apis/net.cogadvisor.io/v1/multinicnetworks/a")
        #expect(KubePaths.object(NetworkAttachmentDefinitionSpec.self, name: "n", namespace: "team")
            == "/apis/k8s.cni.cncf.io/v1/namespaces/team/network-attachment-definitions/n")
        #expect(KubePaths.collection(NodeSpec.self, namespace: nil) == "/api/v1/nodes")
        #expect(KubePaths.plural(ofKind: "SriovNetworkNodePolicy") == "sriovnetworknodepolicies")
        #expect(KubePaths.plural(ofKind: "SriovNetwork") == "sriovnetworks")
        #expect(KubePaths.escape("app=x,tier in (a b)") == "app%3Dx%2Ctier%20in%20%28a%20b%29")
    }
}
