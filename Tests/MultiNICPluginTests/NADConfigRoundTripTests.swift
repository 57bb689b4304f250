import Foundation
import MultiNICCore
import MultiNICRender
import MultiNICTestSupport
import Testing

/// `NADConfig` is the one type between the renderer and the CNI binaries: what the operator writes is what the CNI
/// reads, for every backend, policy and field of the network.
@Suite struct NADConfigRoundTripTests {
    static let ipams = [
        #"{"type":"multi-nic-ipam","hostBlock":8,"interfaceBlock":2,"vlanMode":"l3"}"#,
        #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"vlanMode":"l2","excludeCIDRs":["192.168.0.1"],"routes":[{"dst":"10.99.0.0/16"},{"dst":"10.98.0.0/16","gw":"192.168.0.1"}],"daemonPort":11001}"#,
        #"{"type":"whereabouts","range":"192.168.0.0/16"}"#,
    ]
    static let policies: [AttachPolicySpec?] = [
        nil, AttachPolicySpec(strategy: "none"), AttachPolicySpec(strategy: "costOpt", target: "10Gbps"),
        AttachPolicySpec(strategy: "perfOpt", target: "800Mbps"), AttachPolicySpec(strategy: "devClass"),
        AttachPolicySpec(strategy: "topology"),
    ]

    @Test(arguments: ["ipvlan", "macvlan", "sriov"])
    func renderThenDecodeGivesBackEveryField(backend: String) throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        var cases = 0
        for ipam in Self.ipams {
            for policy in Self.policies {
                for version in CNIVersion.supported {
                    let multiNIC = ipam.contains("multi-nic-ipam")
                    let args: [String: String] = backend == "sriov" ? ["numVfs": "4", "resourceName": "sriovnet"] : ["mode": backend == "ipvlan" ? "l3" : "bridge"]
                    let dns = DNSConfig(nameservers: ["10.1.0.10"], search: ["svc.cluster.local"])
                    let network = TestNetwork.make("net-\(cases)", ipam: ipam, multiNICIPAM: multiNIC, backend: backend,
                                                   cniVersion: version, args: args, dns: dns, policy: policy,
                                                   masterNets: ["10.0.1.0/24", "10.0.2.0/24"], namespaces: ["default"])
                    let validated = try NetworkValidator.check(network)
                    let rendered = try renderer.render(validated, hosts: try BackendRenderTests.hosts(), clusterNamespaces: [])
                    let text = try #require(rendered.attachments.first).spec.config
                    let decoded = try NADConfig(json: JSONValue.parse(text))
                    #expect(decoded.json.description == text, "decode → encode is the identity")
                    #expect(decoded.cniVersion == version && decoded.name == network.name && decoded.type == "multi-nic")
                    #expect(decoded.ipam == validated.ipamJSON)
                    #expect(decoded.routes == validated.routes)
                    #expect(decoded.dns == dns)
                    #expect(decoded.plugin["type"] == .string(backend) && decoded.plugin["cniVersion"] == .string(version))
                    #expect(decoded.masterNets == ["10.0.1.0/24", "10.0.2.0/24"])
                    #expect(decoded.subnet == "192.168.0.0/16" && decoded.multiNICIPAM == multiNIC)
                    #expect(decoded.attachPolicy == policy)
                    #expect(decoded.daemonPort == (ipam.contains("11001") ? 11001 : ConfigSpec().daemon.port))
                    #expect(decoded.resourceNames == (backend == "sriov" ? ["openshift.io/sriovnet"] : []))
                    #expect(decoded.extra.isEmpty)
                    cases += 1
                }
            }
        }
        #expect(cases == Self.ipams.count * Self.policies.count * CNIVersion.supported.count)
    }

    @Test func keysFromMultusAreCarriedThroughAndWrongTypesNameTheirField() throws {
        let text = #"{"cniVersion":"1.0.0","name":"n","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"plugin":{"type":"macvlan"},"runtimeConfig":{"ips":["1.2.3.4"]},"args":{"cni":{"nics":2}},"prevResult":{"ips":[]}}"#
        let decoded = try NADConfig(json: JSONValue.parse(text))
        #expect(Set(decoded.extra.keys) == ["runtimeConfig", "args", "prevResult"])
        #expect(decoded.json.objectValue?["runtimeConfig"] == decoded.extra["runtimeConfig"])
        for (bad, field) in [(#""masterNets":"10.0.1.0/24""#, "masterNets"), (#""multiNICIPAM":"yes""#, "multiNICIPAM"),
                             (#""daemonPort":70000"#, "daemonPort"), (#""attachPolicy":{"strategy":3}"#, "attachPolicy.strategy"),
                             (#""ipam":{"type":"multi-nic-ipam","routes":[{"dst":"x"}]}"#, "ipam.routes[0]")] {
            let document = #"{"cniVersion":"1.0.0","name":"n","plugin":{"type":"macvlan"},\#(bad)}"#
            #expect(throws: FieldIssue.self) { try NADConfig(json: JSONValue.parse(document)) }
            do {
                _ = try NADConfig(json: JSONValue.parse(document))
            } catch let issue as FieldIssue {
                #expect(issue.path == field, "\(issue)")
            }
        }
    }
}
