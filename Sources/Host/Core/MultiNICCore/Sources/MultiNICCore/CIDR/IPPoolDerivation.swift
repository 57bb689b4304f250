/// CIDR → IPPools: one pool per (interface network, host), with the excludes that fall inside its block.
public enum IPPoolDerivation {
    /// The pools of a CIDR. Allocations of a pool that already exists (same name) are kept as they are.
    ///
    /// In host-subnet mode the pod blocks share the hosts' own networks, so every host address of that network
    /// that lies inside a pool's block is excluded too (upstream handed them out: issue #109).
    ///
    /// With `cloud`, each pool also leaves out the addresses the cloud reserves in its interface network (vlanCIDR)
    /// and names the provider that must learn its addresses.
    public static func pools(for spec: CIDRSpec, existing: [IPPool] = [], cloud: CloudAddressing? = nil) -> [IPPool] {
        let network = spec.config.name
        let excludes = (try? BlockMath.parseExcludes(spec.config.excludeCIDRs ?? []).get()) ?? []
        let hostSubnetMode = spec.config.subnet.isEmpty
        let previous = Dictionary(existing.map { ($0.metadata.name, $0) }, uniquingKeysWith: { first, _ in first })
        var pools: [IPPool] = []
        for entry in spec.cidr {
            let hostAddresses = hostSubnetMode
                ? entry.hosts.compactMap { IPAddress($0.hostIP) }.map { IPNetwork(address: $0, prefixLength: $0.family.bitWidth) }
                : []
            let reserved = cloud.flatMap { cloud in
                IPNetwork(entry.vlanCIDR).map { reservedAddresses(of: $0, atStart: cloud.reservedAtStart, atEnd: cloud.reservedAtEnd) }
            } ?? []
            for host in entry.hosts {
                guard let podCIDR = IPNetwork(host.podCIDR) else { continue }
                let name = host.ippool ?? BlockMath.poolName(network: network, podCIDR: podCIDR)
                let poolExcludes = BlockMath.poolExcludes(of: podCIDR, excludes: excludes + hostAddresses + reserved)
                var excludeTexts: [String] = []
                for exclude in poolExcludes where !excludeTexts.contains(exclude.description) {
                    excludeTexts.append(exclude.description)
                }
                let spec = IPPoolSpec(
                    podCIDR: host.podCIDR, vlanCIDR: entry.vlanCIDR, netAttachDef: network, hostName: host.hostName,
                    interfaceName: host.interfaceName, excludes: excludeTexts,
                    allocations: previous[name]?.spec.allocations ?? [], cloudProvider: cloud?.provider)
                let labels = [IPPoolSpec.hostLabel: host.hostName, IPPoolSpec.networkLabel: network]
                pools.append(IPPool(metadata: ObjectMeta(name: name, labels: labels), spec: spec))
            }
        }
        return pools
    }

    /// The first `atStart` and last `atEnd` addresses of `network`, each as a host route (/32, /128).
    public static func reservedAddresses(of network: IPNetwork, atStart: Int, atEnd: Int) -> [IPNetwork] {
        let bits = network.family.bitWidth
        let size = network.addressCount
        var result: [IPNetwork] = []
        func add(_ address: IPAddress?) {
            guard let address else { return }
            let host = IPNetwork(address: address, prefixLength: bits)
            if !result.contains(host) { result.append(host) }
        }
        for offset in 0..<UInt128(max(0, min(atStart, 256))) where offset < size {
            add(network.networkAddress.advanced(by: offset))
        }
        for back in 0..<UInt128(max(0, min(atEnd, 256))) where back < size {
            add(IPAddress(family: network.family, value: network.lastAddress.value - back))
        }
        return result
    }
}
