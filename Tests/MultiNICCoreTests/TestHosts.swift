import MultiNICCore
import MultiNICTestSupport

/// Builders shared by the core tests.
enum TestHosts {
    /// A HostInterface with one interface per network, named eth1, eth2, …, host address `.<octet>`.
    static func host(_ name: String, octet: Int, nets: [String]) -> HostInterface {
        let interfaces = nets.enumerated().map { index, net in
            let prefix = net.split(separator: "/")[0].split(separator: ".").prefix(3).joined(separator: ".")
            return InterfaceInfo(interfaceName: "eth\(index + 1)", netAddress: net, hostIP: "\(prefix).\(octet)",
                                 vendor: "15b3", product: "1019", pciAddress: "0000:00:0\(index + 4).0")
        }
        return HostInterface(metadata: ObjectMeta(name: name), spec: HostInterfaceSpec(hostName: name, interfaces: interfaces))
    }

    static func network(subnet: String, hostBlock: Int, interfaceBlock: Int, excludes: [String] = [],
                        masterNets: [String]? = nil, vlanMode: String = "l3", name: String = "net") -> MultiNicNetwork {
        TestNetwork.make(name, subnet: subnet, hostBlock: hostBlock, interfaceBlock: interfaceBlock, vlanMode: vlanMode,
                         excludes: excludes, multiNICIPAM: true, backend: "ipvlan", cniVersion: "0.3.0", args: ["mode": "l3"],
                         policy: AttachPolicySpec(strategy: "none"), masterNets: masterNets)
    }

    /// host name → podCIDR on the entry with this netAddress.
    static func podCIDRs(_ spec: CIDRSpec, net: String) -> [String: String] {
        let entry = spec.cidr.first { $0.netAddress == net }
        return Dictionary(uniqueKeysWithValues: (entry?.hosts ?? []).map { ($0.hostName, $0.podCIDR) })
    }

    static func hostIndices(_ spec: CIDRSpec, net: String) -> [String: Int] {
        let entry = spec.cidr.first { $0.netAddress == net }
        return Dictionary(uniqueKeysWithValues: (entry?.hosts ?? []).map { ($0.hostName, $0.hostIndex) })
    }
}
