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
            var present: [(id: Int, slot: HostSlot)] = []
            present.reserveCapacity(entry.hostCount)
            for (id, slot) in entry.slots.enumerated() {
                if let slot { present.append((id, slot)) }
            }
            present.sort { ($0.slot.hostIndex, $0.slot.sequence) < ($1.slot.hostIndex, $1.slot.sequence) }
            return CIDREntry(
                netAddress: entry.netAddress.description, interfaceIndex: entry.interfaceIndex,
                vlanCIDR: entry.vlanCIDR.description,
                hosts: present.compactMap { id, slot in
                    guard let podCIDR = podBlock(in: entry, index: slot.hostIndex) else { return nil }
                    return HostCIDR(hostIndex: Int(slot.hostIndex), hostName: hostNames[id] ?? "",
                                    interfaceName: slot.interfaceName, hostIP: slot.hostIP,
                                    podCIDR: podCIDR.description,
                                    ippool: BlockMath.poolName(network: config.name, podCIDR: podCIDR))
                })
        }
        return CIDRSpec(config: effective, cidr: cidr)
    }
}
