import MultiNICCore
import Testing

@Suite struct NetworkValidatorTests {
    func network(subnet: String = "192.168.0.0/16", ipam: String = #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"vlanMode":"l3"}"#,
                 masterNets: [String]? = nil, strategy: String = "none", name: String = "net",
                 cniVersion: String = "0.3.0", namespaces: [String]? = nil, multiNICIPAM: Bool? = true) -> MultiNicNetwork {
        MultiNicNetwork(metadata: ObjectMeta(name: name), spec: MultiNicNetworkSpec(
            subnet: subnet, ipam: ipam, multiNICIPAM: multiNICIPAM,
            plugin: PluginSpec(cniVersion: cniVersion, type: "ipvlan"), attachPolicy: AttachPolicySpec(strategy: strategy),
            masterNets: masterNets, namespaces: namespaces))
    }

    func errors(_ network: MultiNicNetwork) -> [String] {
        NetworkValidator.validate(network).errors.map(\.description)
    }

    @Test(arguments: ["1e300Gbps", "fast", "infGbps"])
    func aTargetTheDaemonCannotReadIsAnError(target: String) {
        var hostile = network(strategy: "costOpt")
        hostile.spec.attachPolicy?.target = target
        #expect(NetworkValidator.validate(hostile).errors.map(\.path) == ["spec.attachPolicy.target"])
        hostile.spec.attachPolicy?.target = "25Gbps"
        #expect(NetworkValidator.validate(hostile).errors.isEmpty)
    }

    @Test func aGoodNetworkHasNoIssues() {
        let report = NetworkValidator.validate(network())
        #expect(report.errors.isEmpty && report.warnings.isEmpty)
    }

    @Test(arguments: [
        ("192.168.0.0", "spec.subnet: \"192.168.0.0\" is not a CIDR: expected address/prefix, e.g. 192.168.0.0/16"),
        ("192.168.0/16", "spec.subnet: \"192.168.0/16\" is not a CIDR: the address is not valid IPv4 or IPv6"),
        ("192.168.64.0/16", "spec.subnet: \"192.168.64.0/16\" has host bits set; did you mean 192.168.0.0/16?"),
    ])
    func subnetErrors(subnet: String, expected: String) {
        #expect(errors(network(subnet: subnet)) == [expected])
    }

    @Test func tooFewPodBits() {
        let ipam = #"{"type":"multi-nic-ipam","hostBlock":13,"interfaceBlock":2}"#
        #expect(errors(network(ipam: ipam)) == ["spec.ipam.hostBlock: subnet /16 + interfaceBlock 2 + hostBlock 13 = 31"
            + " of 32 bits leaves 1 address bit(s) per pod block; at least 2 are needed; the largest hostBlock for this"
            + " subnet and interfaceBlock is 12"])
        let v6 = #"{"type":"multi-nic-ipam","hostBlock":20,"interfaceBlock":10}"#
        #expect(errors(network(subnet: "fd00::/100", ipam: v6)).first?.hasPrefix("spec.ipam.hostBlock: subnet /100") == true)
    }

    @Test func moreMasterNetsThanInterfaceBlocks() {
        let nets = (1...5).map { "10.0.\($0).0/24" }
        #expect(errors(network(masterNets: nets)) == ["spec.masterNets: lists 5 networks but interfaceBlock 2 gives"
            + " 4 interface block(s); raise interfaceBlock or list fewer networks"])
        let excluded = #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"excludeCIDRs":["192.168.0.0/17"]}"#
        #expect(errors(network(ipam: excluded, masterNets: Array(nets.prefix(3)))) == ["spec.masterNets: lists 3"
            + " networks but interfaceBlock 2 gives 4 interface block(s) (after excluded blocks: 2); raise"
            + " interfaceBlock or list fewer networks"])
    }

    @Test func masterNetProblems() {
        #expect(errors(network(masterNets: ["10.0.1.0/24", "10.0.1.7/24", "nope", "10.0.1.0/24"])) == [
            "spec.masterNets[1]: \"10.0.1.7/24\" has host bits set; did you mean 10.0.1.0/24?",
            "spec.masterNets[2]: \"nope\" is not a CIDR: the address is not valid IPv4 or IPv6",
            "spec.masterNets[3]: 10.0.1.0/24 is already listed at spec.masterNets[0]",
        ])
    }

    @Test(arguments: [
        (#"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"vlanMode":"l4"}"#,
         "spec.ipam.vlanMode: \"l4\" is not one of l2, l3, l3s"),
        (#"{"type":"multi-nic-ipam","hostBlock":"6","interfaceBlock":2}"#,
         "spec.ipam.hostBlock: must be an integer, not string \"6\""),
        (#"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"excludeCIDRs":["192.168.0.0/16","192.168.1.300"]}"#,
         "spec.ipam.excludeCIDRs[1]: \"192.168.1.300\" is not a CIDR: the address is not valid IPv4 or IPv6"),
        (#"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"excludeCIDRs":"192.168.0.0/24"}"#,
         "spec.ipam.excludeCIDRs: must be a list of strings, not a string"),
        (#"{"type":"multi-nic-ipam","hostBlock":40,"interfaceBlock":2}"#, "spec.ipam.hostBlock: 40 is out of range 0…32"),
        (#"{"type":"multi-nic-ipam","hostBlock":0,"interfaceBlock":2}"#,
         "spec.ipam.hostBlock: 0 gives every host the same pod block of the subnet, so hosts would hand out the same"
            + " addresses; use hostBlock ≥ 1 (or subnet \"\" with per-host networks)"),
        (#"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"daemonPort":70000}"#,
         "spec.ipam.daemonPort: 70000 is not a TCP port (1…65535)"),
        (#"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"routes":[{"dst":"x"}]}"#,
         "spec.ipam.routes[0].dst: \"x\" is not a CIDR"),
        (#"{"hostBlock":6}"#, "spec.ipam.type: is required (e.g. \"multi-nic-ipam\")"),
        (#"["multi-nic-ipam"]"#, "spec.ipam: must be a JSON object, not a array"),
    ])
    func ipamErrors(ipam: String, expected: String) {
        #expect(errors(network(ipam: ipam)) == [expected])
    }

    @Test func invalidJSONIsNamed() {
        let found = errors(network(ipam: "{\"type\": \"multi-nic-ipam\", hostBlock: 6}"))
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("spec.ipam: is not valid JSON (") == true)
    }

    @Test func namesAndVersions() {
        #expect(errors(network(name: "Bad_Name")).first?.hasPrefix("metadata.name: \"Bad_Name\" is not a valid name") == true)
        #expect(errors(network(namespaces: ["default", "Kube System"])).first?.hasPrefix("spec.namespaces[1]:") == true)
        #expect(errors(network(cniVersion: "0.5.0")).first?.hasPrefix("spec.plugin.cniVersion: \"0.5.0\"") == true)
    }

    @Test func unknownStrategyAndKeysAreWarnings() {
        let ipam = #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"hostblock":8}"#
        let report = NetworkValidator.validate(network(ipam: ipam, strategy: "fastest"), specKeys: ["subnet", "ipam", "attachpolicy"])
        #expect(report.errors.isEmpty)
        #expect(report.warnings.map(\.path) == ["spec.attachpolicy", "spec.attachPolicy.strategy", "spec.ipam.hostblock"])
        #expect(report.warnings[1].message.contains("none, costOpt, perfOpt, devClass, topology"))
    }

    @Test func passthroughIPAMIsNotCarved() {
        let whereabouts = #"{"type":"whereabouts","range":"10.9.0.0/24"}"#
        let report = NetworkValidator.validate(network(ipam: whereabouts, multiNICIPAM: false))
        #expect(report.isValid && report.warnings.isEmpty)
        #expect(throws: CIDRError.self) { try CIDRConfig(network: network(ipam: whereabouts, multiNICIPAM: false)) }
        guard case .passthrough(let type, let json) = try? IPAMConfig.parse(whereabouts) else {
            Issue.record("expected passthrough")
            return
        }
        #expect(type == "whereabouts")
        #expect(json.description == #"{"range":"10.9.0.0/24","type":"whereabouts"}"#)
    }
}
