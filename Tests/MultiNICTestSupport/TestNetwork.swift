import MultiNICCore

/// The one builder of MultiNicNetworks for tests: a multi-nic-ipam network by default, every field overridable.
public enum TestNetwork {
    /// A network named `name` on `subnet`, with a multi-nic-ipam section built from the block sizes, `vlanMode`,
    /// `excludes` and `routes` (JSON text of the routes list), unless `ipam` gives the whole section.
    public static func make(_ name: String = "net", subnet: String = "192.168.0.0/16", hostBlock: Int = 6,
                            interfaceBlock: Int = 2, vlanMode: String? = "l3", excludes: [String] = [], routes: String? = nil,
                            ipam: String? = nil, multiNICIPAM: Bool? = nil, backend: String = "macvlan",
                            cniVersion: String = "1.0.0", args: [String: String]? = nil, dns: DNSConfig? = nil,
                            policy: AttachPolicySpec? = nil, masterNets: [String]? = nil, namespaces: [String]? = nil,
                            labels: [String: String]? = nil) -> MultiNicNetwork {
        var section = "{\"type\":\"multi-nic-ipam\",\"hostBlock\":\(hostBlock),\"interfaceBlock\":\(interfaceBlock)"
        if let vlanMode { section += ",\"vlanMode\":\"\(vlanMode)\"" }
        if !excludes.isEmpty { section += ",\"excludeCIDRs\":[" + excludes.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        if let routes { section += ",\"routes\":\(routes)" }
        section += "}"
        return MultiNicNetwork(metadata: ObjectMeta(name: name, labels: labels), spec: MultiNicNetworkSpec(
            subnet: subnet, ipam: ipam ?? section, multiNICIPAM: multiNICIPAM,
            plugin: PluginSpec(cniVersion: cniVersion, type: backend, args: args, dns: dns),
            attachPolicy: policy, masterNets: masterNets, namespaces: namespaces))
    }
}
