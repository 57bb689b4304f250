import Foundation
import MultiNICCore
import MultiNICManifests
import MultiNICTestSupport
import Testing

@Suite struct ManifestLoaderTests {
    @Test func theSeedExampleDecodesVerbatim() throws {
        let path = repositoryRoot.appendingPathComponent("examples/network.yaml").path
        let documents = try ManifestLoader.load(path: path)
        let networks = try ManifestLoader.resources(MultiNicNetwork.self, in: documents)
        let network = try #require(networks.first)
        #expect(networks.count == 1)
        #expect(network.apiVersion == "net.cogadvisor.io/v1")
        #expect(network.name == "multi-nic-sample")
        #expect(network.spec.subnet == "192.168.0.0/16")
        #expect(network.spec.multiNICIPAM == true)
        #expect(network.spec.plugin == PluginSpec(cniVersion: "0.3.0", type: "ipvlan", args: ["mode": "l3"]))
        #expect(network.spec.attachPolicy == AttachPolicySpec(strategy: "none"))
        #expect(network.spec.namespaces == ["default"])
        #expect(network.spec.masterNets == nil)
        guard case .multiNIC(let ipam) = try IPAMConfig.parse(network.spec.ipam) else {
            Issue.record("the seed's ipam is multi-nic-ipam")
            return
        }
        #expect(ipam == MultiNICIPAMConfig(hostBlock: 6, interfaceBlock: 2, vlanMode: .l3))
        #expect(NetworkValidator.validate(network, specKeys: documents[0].specKeys) == ValidationReport())
    }

    static let networkYAML = """
        apiVersion: API
        kind: MultiNicNetwork
        metadata: {name: n}
        spec:
          subnet: 10.8.0.0/16
          ipam: '{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2}'
          FLAG
          plugin: {cniVersion: "0.3.0", type: macvlan, args: {mode: bridge, mtu: 9000, strict: yes, on: true}}
        """

    func decode(api: String = "net.cogadvisor.io/v1", flag: String = "multiNICIPAM: true") throws -> MultiNicNetwork {
        let text = Self.networkYAML.replacingOccurrences(of: "API", with: api).replacingOccurrences(of: "FLAG", with: flag)
        let documents = try ManifestLoader.parse(text, file: "n.yaml")
        return try #require(try ManifestLoader.resources(MultiNicNetwork.self, in: documents).first)
    }

    @Test func bothSpellingsOfTheIPAMFlag() throws {
        #expect(try decode(flag: "multiNICIPAM: true").spec.multiNICIPAM == true)
        #expect(try decode(flag: "multiNicIPAM: false").spec.multiNICIPAM == false)
        #expect(try decode(flag: "").spec.multiNICIPAM == nil)
        #expect(try NetworkValidator.check(decode(flag: "")).usesMultiNICIPAM)
        #expect(throws: ManifestError.invalid(
            DocumentRef(file: "n.yaml", number: 1, kind: "MultiNicNetwork", name: "n"),
            [FieldIssue("spec.multiNicIPAM", "contradicts multiNICIPAM (true); give the flag once")])) {
            try decode(flag: "multiNICIPAM: true\n  multiNicIPAM: false")
        }
    }

    @Test func theLegacyGroupIsAcceptedAndOthersAreNot() throws {
        #expect(try decode(api: "multinic.fms.io/v1").apiVersion == "multinic.fms.io/v1")
        #expect(throws: ManifestError.invalid(
            DocumentRef(file: "n.yaml", number: 1, kind: "MultiNicNetwork", name: "n"),
            [FieldIssue("apiVersion", "MultiNicNetwork must have apiVersion net.cogadvisor.io/v1 or multinic.fms.io/v1,"
                + " not \"example.com/v1\"")])) {
            try decode(api: "example.com/v1")
        }
    }

    @Test func pluginArgumentsKeepTheirTextWhateverTheirType() throws {
        #expect(try decode().spec.plugin.args == ["mode": "bridge", "mtu": "9000", "strict": "yes", "on": "true"])
    }

    @Test func aSyntaxErrorInALaterDocumentFailsTheWholeFile() {
        let text = "kind: HostInterface\n---\nkind: HostInterface\nspec: [unclosed\n"
        #expect {
            try ManifestLoader.parse(text, file: "h.yaml")
        } throws: { error in
            guard case ManifestError.syntax(let file, let line, _, _) = error else { return false }
            return file == "h.yaml" && line == 5
        }
    }

    @Test func fieldErrorsNameThePath() {
        let cases: [(String, FieldIssue)] = [
            ("spec: {subnet: '', ipam: '{}', plugin: {cniVersion: '1.0.0'}}", FieldIssue("spec.plugin.type", "is required")),
            ("spec: {ipam: '{}', plugin: {cniVersion: '1.0.0', type: x}, masterNets: 10.0.0.0/8}",
             FieldIssue("spec.masterNets", "must be a list")),
            ("spec: {ipam: '{}', plugin: {cniVersion: '1.0.0', type: x}, masterNets: [a, [b]]}",
             FieldIssue("spec.masterNets[1]", "must be a string")),
            ("spec: {ipam: '{}', plugin: {cniVersion: '1.0.0', type: x}, multiNICIPAM: maybe}",
             FieldIssue("spec.multiNICIPAM", "must be a boolean (true or false)")),
        ]
        for (spec, issue) in cases {
            let text = "apiVersion: net.cogadvisor.io/v1\nkind: MultiNicNetwork\nmetadata: {name: n}\n" + spec
            #expect(throws: ManifestError.invalid(DocumentRef(file: "f", number: 1, kind: "MultiNicNetwork", name: "n"),
                                                  [issue])) {
                try ManifestLoader.resources(MultiNicNetwork.self, in: ManifestLoader.parse(text, file: "f"))
            }
        }
    }

    @Test func jsonListsAndKubernetesListsAreExpanded() throws {
        let path = repositoryRoot.appendingPathComponent("examples/hosts-ipv6.yaml").path
        let hosts = try ManifestLoader.resources(HostInterface.self, in: ManifestLoader.load(path: path))
        #expect(hosts.map(\.name) == ["gpu-a", "gpu-b", "gpu-c"])
        let list = """
            {"apiVersion": "v1", "kind": "List", "items": [
              {"apiVersion": "net.cogadvisor.io/v1", "kind": "DeviceClass", "metadata": {"name": "highspeed"},
               "spec": {"ids": [{"vendor": "15b3", "products": ["1019", "101d"]}]}}]}
            """
        let classes = try ManifestLoader.resources(DeviceClass.self, in: ManifestLoader.parse(list, file: "l.json"))
        #expect(classes.first?.spec.matches(vendor: "15B3", product: "101d") == true)
        #expect(classes.first?.spec.matches(vendor: "15b3", product: "efa0") == false)
    }

    @Test func unreadableFilesSayWhy() {
        #expect {
            try ManifestLoader.load(path: "/nonexistent/net.yaml")
        } throws: { error in
            guard case ManifestError.unreadable(let file, _) = error else { return false }
            return file == "/nonexistent/net.yaml"
        }
    }

    @Test func resourcesRoundTripThroughYAMLAndJSON() throws {
        let path = repositoryRoot.appendingPathComponent("examples/network.yaml").path
        let network = try #require(try ManifestLoader.resources(MultiNicNetwork.self, in: ManifestLoader.load(path: path)).first)
        let yaml = try ManifestWriter.yaml(network)
        let json = try ManifestWriter.json(network)
        for (text, file) in [(yaml, "out.yaml"), (json, "out.json")] {
            let back = try ManifestLoader.resources(MultiNicNetwork.self, in: ManifestLoader.parse(text, file: file))
            #expect(back == [network])
        }
        var config = Config(metadata: ObjectMeta(name: ConfigSpec.defaultName), spec: ConfigSpec())
        config.spec.daemon.nodeSelector = ["b": "2", "a": "1"]
        config.spec.daemon.tolerations = .array([.object(["operator": .string("Exists")])])
        let text = try ManifestWriter.yaml(config)
        #expect(text.contains("nodeSelector:\n      a: '1'\n      b: '2'"))
        #expect(try ManifestLoader.resources(Config.self, in: ManifestLoader.parse(text, file: "c.yaml")) == [config])
    }
}
