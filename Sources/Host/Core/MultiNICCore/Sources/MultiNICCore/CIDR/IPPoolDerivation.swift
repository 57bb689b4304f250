/// CIDR → IPPools: one pool per (interface network, host), with the excludes that fall inside its block.
public enum IPPoolDerivation {
    /// The pools of a CIDR. Allocations of a pool that already exists (same name) are kept as they are.
    ///
    /// In host-subnet mode the pod blocks share the hosts' own networks, so every host address of that network
    /// that lies inside a pool's block is excluded too (upstream handed them out: issue #109).
    public static func pools(for spec: CIDRSpec, existing: [IPPool] = []) -> [IPPool] {
        let network = spec.config.name
        let excludes = (try? BlockMath.parseExcludes(spec.config.excludeCIDRs ?? []).get()) ?? []
        let hostSubnetMode = spec.config.subnet.isEmpty
        let previous = Dictionary(existing.map { ($0.metadata.name, $0) }, uniquingKeysWith: { first, _ in first })
        var pools: [IPPool] = []
        for entry in spec.cidr {
            let hostAddresses = hostSubnetMode
                ? entry.hosts.compactMap { IPAddress($0.hostIP) }.map { IPNetwork(address: $0, prefixLength: $0.family.bitWidth) }
                : []
            for host in entry.hosts {
                guard let podCIDR = IPNetwork(host.podCIDR) else { continue }
                let name = host.ippool ?? BlockMath.poolName(network: network, podCIDR: podCIDR)
                let poolExcludes = BlockMath.poolExcludes(of: podCIDR, excludes: excludes + hostAddresses)
                var excludeTexts: [String] = []
                for exclude in poolExcludes where !excludeTexts.contains(exclude.description) {
                    excludeTexts.append(exclude.description)
                }
                let spec = IPPoolSpec(
                    podCIDR: host.podCIDR, vlanCIDR: entry.vlanCIDR, netAttachDef: network, hostName: host.hostName,
                    interfaceName: host.interfaceName, excludes: excludeTexts,
                    allocations: previous[name]?.spec.allocations ?? [])
                let labels = [IPPoolSpec.hostLabel: host.hostName, IPPoolSpec.networkLabel: network]
                pools.append(IPPool(metadata: ObjectMeta(name: name, labels: labels), spec: spec))
            }
        }
        return pools
    }
}
