import Foundation
import MultiNICCore
import MultiNICManifests
import MultiNICPluginHost
import MultiNICTestSupport
import MultiNICRender
import Testing

/// Renders every backend's resources and compares them with `Golden/<name>.yaml`
/// (`UPDATE_GOLDEN=1 swift test` rewrites the files).
@Suite struct BackendRenderTests {
    static func load(_ file: String, _ name: String) throws -> MultiNicNetwork {
        let path = repositoryRoot.appendingPathComponent(file).path
        let networks = try ManifestLoader.resources(MultiNicNetwork.self, in: ManifestLoader.load(path: path))
        return try #require(networks.first { $0.name == name })
    }

    static func hosts() throws -> [HostInterface] {
        try ManifestLoader.resources(HostInterface.self,
                                     in: ManifestLoader.load(path: repositoryRoot.appendingPathComponent("examples/hosts.yaml").path))
    }

    func expectGolden(_ name: String, _ rendered: RenderedNetwork, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var documents = try rendered.attachments.map(ManifestWriter.yaml)
        documents += try rendered.dependents.map { try ManifestWriter.yaml($0.object) }
        let text = "# warnings:\n" + rendered.warnings.map { "#   \($0)\n" }.joined()
            + ManifestWriter.yamlDocuments(documents)
        let url = repositoryRoot.appendingPathComponent("Tests/MultiNICPluginTests/Golden/\(name).yaml")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        #expect(text == (try String(contentsOf: url, encoding: .utf8)), sourceLocation: sourceLocation)
    }

    @Test func ipvlanRendersTheSeedNetwork() throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        let rendered = try renderer.render(try Self.load("examples/network.yaml", "multi-nic-sample"), hosts: Self.hosts(),
                                           clusterNamespaces: ["ignored"])
        try expectGolden("ipvlan", rendered)
        let config = try JSONValue.parse(try #require(rendered.attachments.first).spec.config).objectValue
        #expect(config?["type"] == .string("multi-nic"))
        #expect(config?["plugin"] == .object(["cniVersion": .string("0.3.0"), "type": .string("ipvlan"), "mode": .string("l3")]))
        #expect(config?["masterNets"] == .array([.string("10.0.1.0/24"), .string("10.0.2.0/24")]))
        #expect(rendered.cidr?.spec.cidr.count == 2)
        #expect(rendered.ippools.count == 8)
    }

    @Test func macvlanWarnsAboutUnknownArgsAndOwnsItsNADs() throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        let rendered = try renderer.render(try Self.load("Tests/MultiNICPluginTests/Fixtures/networks.yaml", "macvlan-net"),
                                           hosts: Self.hosts(), clusterNamespaces: [])
        try expectGolden("macvlan", rendered)
        #expect(rendered.attachments.map(\.metadata.namespace) == ["default", "ml-team"])
        #expect(rendered.attachments.first?.metadata.ownerReferences?.first?.kind == "MultiNicNetwork")
        #expect(rendered.warnings.contains { $0.hasPrefix("spec.plugin.args.color: unknown to the macvlan backend") })
    }

    @Test func sriovRendersPolicyNetworkAndAnnotation() throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        let rendered = try renderer.render(try Self.load("Tests/MultiNICPluginTests/Fixtures/networks.yaml", "sriov-net"),
                                           hosts: Self.hosts(), clusterNamespaces: [])
        try expectGolden("sriov", rendered)
        #expect(rendered.attachments.first?.metadata.annotations == ["k8s.v1.cni.cncf.io/resourceName": "openshift.io/sriovnet"])
        #expect(rendered.dependents.map(\.reference.kind) == ["SriovNetworkNodePolicy", "SriovNetwork"])
        // Every master NIC of every host, not one per network (upstream kept the last host's only).
        let policy = try #require(rendered.dependents.first?.object.objectValue?["spec"]?.objectValue)
        #expect(policy["nicSelector"] == .object(["rootDevices": .array([.string("0000:3b:00.0"), .string("0000:5e:00.0")])]))
        #expect(policy["numVfs"] == .integer(4))
        let backend = try BuiltPlugins.registry().backend("sriov")
        let network = try Self.load("Tests/MultiNICPluginTests/Fixtures/networks.yaml", "sriov-net")
        #expect(backend.cleanup(for: network).map(\.description) == [
            "SriovNetwork openshift-sriov-network-operator/sriov-net-net",
            "SriovNetworkNodePolicy openshift-sriov-network-operator/sriov-net"])
    }

    /// DRA mode (Config `daemon.draDriver`): every NAD names the driver's Multus resource, so Multus hands the ADD
    /// the device ID of a claimed NIC; an SR-IOV network keeps its device plugin's resource; no config, no annotation.
    @Test func draModeNamesTheDriversResourceOnTheNADs() throws {
        var config = ConfigSpec()
        config.daemon.draDriver = "nics.example.com"
        let dra = NetworkRenderer(registry: try BuiltPlugins.registry(), config: config)
        let networks = "Tests/MultiNICPluginTests/Fixtures/networks.yaml"
        let macvlan = try dra.render(try Self.load(networks, "macvlan-net"), hosts: Self.hosts(), clusterNamespaces: [])
        #expect(macvlan.attachments.map(\.metadata.annotations) == Array(repeating: ["k8s.v1.cni.cncf.io/resourceName": "nics.example.com/nic"],
                                                                          count: 2))
        let nadConfig = try JSONValue.parse(try #require(macvlan.attachments.first).spec.config).objectValue
        #expect(nadConfig?["resourceNames"] == nil, "not a device-plugin resource the daemon would look up")
        let sriov = try dra.render(try Self.load(networks, "sriov-net"), hosts: Self.hosts(), clusterNamespaces: [])
        #expect(sriov.attachments.first?.metadata.annotations == ["k8s.v1.cni.cncf.io/resourceName": "openshift.io/sriovnet"])
        let plain = try NetworkRenderer(registry: try BuiltPlugins.registry())
            .render(try Self.load(networks, "macvlan-net"), hosts: Self.hosts(), clusterNamespaces: [])
        #expect(plain.attachments.allSatisfy { $0.metadata.annotations == nil })
    }

    @Test func sriovWithAnExistingResourceCreatesNoPolicy() throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        let network = try Self.load("Tests/MultiNICPluginTests/Fixtures/networks.yaml", "sriov-existing-pool")
        let rendered = try renderer.render(network, hosts: Self.hosts(), clusterNamespaces: [])
        try expectGolden("sriov-existing-pool", rendered)
        #expect(rendered.dependents.map(\.reference.kind) == ["SriovNetwork"])
        #expect(rendered.cidr == nil, "whereabouts networks carve no CIDR")
        #expect(try BuiltPlugins.registry().backend("sriov").cleanup(for: network).map(\.kind) == ["SriovNetwork"])
    }

    @Test(arguments: [
        ("ipvlan", ["mode": "l4"], "spec.plugin.args.mode: \"l4\" is not one of l2, l3, l3s"),
        ("macvlan", ["mtu": "jumbo"], "spec.plugin.args.mtu: \"jumbo\" is not an integer from 68 to 65535"),
        ("sriov", ["trust": "maybe"], "spec.plugin.args.trust: \"maybe\" is not true or false"),
    ])
    func badArgumentsAreErrorsNamingTheField(type: String, args: [String: String], expected: String) throws {
        let network = MultiNicNetwork(metadata: ObjectMeta(name: "n"), spec: MultiNicNetworkSpec(
            subnet: "", ipam: #"{"type":"host-local"}"#, plugin: PluginSpec(cniVersion: "1.0.0", type: type, args: args)))
        #expect(throws: PluginError.invalidArguments([FieldIssue(String(expected.split(separator: ":")[0]),
                                                                 String(expected.drop { $0 != ":" }.dropFirst(2)))])) {
            try BuiltPlugins.registry().backend(type).render(NetworkRenderInput(network: network, hosts: []))
        }
    }

    @Test func unknownBackendFailsRenderingWithTheList() throws {
        var network = try Self.load("examples/network.yaml", "multi-nic-sample")
        network.spec.plugin.type = "bridge"
        #expect(throws: RenderError.plugin(.unknownBackend("bridge", available: ["aws-ipvlan", "host-device", "ipvlan", "macvlan", "sriov"]))) {
            try NetworkRenderer(registry: BuiltPlugins.registry()).render(network, hosts: [], clusterNamespaces: ["default"])
        }
    }
}

/// aws-ipvlan: the NAD names the backend, the delegate is a plain ipvlan, and every pool says that EC2 must learn
/// its addresses and leaves out the addresses AWS reserves in each VPC subnet (the original handed them out: #109).
@Suite struct AWSIPVLANRenderTests {
    @Test func poolsLeaveOutTheReservedAddressesAndNameTheCloud() throws {
        let registry = try BuiltPlugins.registry()
        let network = try BackendRenderTests.load("examples/aws-ipvlan-network.yaml", "aws-sample")
        let rendered = try NetworkRenderer(registry: registry).render(network, hosts: BackendRenderTests.hosts(), clusterNamespaces: [])
        let config = try JSONValue.parse(try #require(rendered.attachments.first).spec.config).objectValue
        #expect(config?["plugin"] == .object(["cniVersion": .string("0.3.0"), "type": .string("aws-ipvlan"), "mode": .string("l2")]))
        #expect(rendered.ippools.count == 8 && rendered.ippools.allSatisfy { $0.spec.cloudProvider == "aws" })
        let pools = Dictionary(uniqueKeysWithValues: rendered.ippools.map { ("\($0.spec.hostName) \($0.spec.interfaceName)", $0.spec) })
        let first = try #require(pools.values.first { $0.podCIDR == "10.0.1.0/26" })
        let last = try #require(pools.values.first { $0.podCIDR == "10.0.2.192/26" })
        for reserved in ["10.0.1.0/32", "10.0.1.1/32", "10.0.1.2/32", "10.0.1.3/32"] {
            #expect(first.excludes.contains(reserved), "\(first.excludes)")
        }
        #expect(last.excludes.contains("10.0.2.255/32") && !last.excludes.contains("10.0.2.192/32"), "\(last.excludes)")
        // A pool in the middle of the subnet loses only host addresses.
        #expect(rendered.ippools.filter { $0.spec.excludes.contains { $0.hasSuffix(".1/32") || $0.hasSuffix(".255/32") } }.count == 4)

        let backend = try registry.backend("aws-ipvlan")
        let attachment = NICAttachment(networkName: "aws-sample", cniVersion: "0.3.0", plugin: try #require(config?["plugin"]?.objectValue),
                                       master: "eth1", address: IPNetwork("10.0.1.4/24")!)
        let delegate = try backend.delegateConfig(for: attachment).objectValue
        #expect(delegate?["type"] == .string("ipvlan") && delegate?["master"] == .string("eth1") && delegate?["mode"] == .string("l2"))
        #expect(backend is any NativeAttaching, "native attach as ipvlan")
    }

    @Test func aGlobalSubnetOrAnotherIPAMIsRefusedNamingTheField() throws {
        let registry = try BuiltPlugins.registry()
        var network = try BackendRenderTests.load("examples/aws-ipvlan-network.yaml", "aws-sample")
        network.spec.subnet = "192.168.0.0/16"
        #expect { try NetworkRenderer(registry: registry).render(network, hosts: BackendRenderTests.hosts(), clusterNamespaces: []) } throws: {
            "\($0)".contains("spec.subnet: aws-ipvlan takes pod addresses from each ENI's VPC subnet")
        }
        network.spec.subnet = ""
        network.spec.ipam = #"{"type": "whereabouts", "range": "10.0.1.0/24"}"#
        #expect { try NetworkRenderer(registry: registry).render(network, hosts: BackendRenderTests.hosts(), clusterNamespaces: []) } throws: {
            "\($0)".contains("spec.ipam: aws-ipvlan needs type multi-nic-ipam")
        }
    }
}
