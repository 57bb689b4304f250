extension CIDRPlan {
    /// The plan as a `CIDR.spec`: entries in interface-index order, hosts in host-index order. `masterNets`
    /// is the network's list, or — when it lists none — every interface network in index order.
    public var spec: CIDRSpec {
        let ordered = entries.sorted { $0.interfaceIndex < $1.interfaceIndex }
        var effective = config
        effective.subnet = layout.subnet?.description ?? ""
        effective.masterNets = layout.masterNets.isEmpty
            ? ordered.map(\.netAddress.description) : layout.masterNets.map(\.description)
        let cidr = ordered.map { entry in
            let vlanText = entry.vlanCIDR.description
            let hosts = entry.hosts.sorted { lhs, rhs in
                (lhs.value.hostIndex, lhs.value.sequence) < (rhs.value.hostIndex, rhs.value.sequence)
            }
            return CIDREntry(
                netAddress: entry.netAddress.description, interfaceIndex: entry.interfaceIndex, vlanCIDR: vlanText,
                hosts: hosts.map { name, slot in
                    HostCIDR(hostIndex: Int(slot.hostIndex), hostName: name, interfaceName: slot.interfaceName,
                             hostIP: slot.hostIP, podCIDR: slot.podCIDR.description,
                             ippool: BlockMath.poolName(network: config.name, podCIDR: slot.podCIDR))
                })
        }
        return CIDRSpec(config: effective, cidr: cidr)
    }
}
