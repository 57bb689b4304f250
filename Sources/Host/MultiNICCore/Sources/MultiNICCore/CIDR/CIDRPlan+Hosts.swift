/// A host's interfaces with their networks parsed once.
struct ParsedHost: Sendable {
    let name: String
    let interfaces: [(info: InterfaceInfo, net: IPNetwork?)]
    let nets: Set<IPNetwork>
    /// A HostInterface with no interfaces: discovery came back empty, which is never a reason to delete.
    var isEmptyDiscovery: Bool { interfaces.isEmpty }

    init(_ spec: HostInterfaceSpec) {
        name = spec.hostName
        interfaces = spec.interfaces.map { info in
            (info, info.netAddress.isEmpty ? nil : IPNetwork(info.netAddress)?.normalized)
        }
        nets = Set(interfaces.compactMap(\.net))
    }
}

extension CIDRPlan {
    /// Brings the plan up to date with the current HostInterfaces, in the given order.
    ///
    /// A host listed in the plan keeps a block while its HostInterface still has an interface on that network;
    /// a HostInterface with an empty interface list keeps everything (discovery glitch, upstream #78); a host
    /// with no HostInterface keeps its blocks while its node is in `existingNodes` (daemon restarting) and
    /// loses them otherwise. Then every host joins (``join(_:)``).
    public mutating func reconcile(hosts: [HostInterfaceSpec], existingNodes: Set<String>) {
        let parsed = hosts.map(ParsedHost.init)
        var byName: [String: ParsedHost] = [:]
        for host in parsed where byName[host.name] == nil { byName[host.name] = host }
        for position in entries.indices {
            let net = entries[position].netAddress
            let departed = entries[position].hosts.keys.filter { name in
                guard let host = byName[name] else { return !existingNodes.contains(name) }
                return !host.isEmptyDiscovery && !host.nets.contains(net)
            }
            for name in departed { entries[position].remove(name) }
        }
        removeEntries { !$0.pinned && $0.hosts.isEmpty }
        for host in parsed { join(host) }
    }

    /// Adds one host (or refreshes it): each of its interfaces on an allowed network gets a pod block, keeping
    /// the index it already has. Does not remove blocks of interfaces the host no longer reports.
    public mutating func join(_ host: HostInterfaceSpec) {
        join(ParsedHost(host))
    }

    /// Removes a host from every interface network (its node is gone).
    public mutating func remove(hostName: String) {
        for position in entries.indices { entries[position].remove(hostName) }
        removeEntries { !$0.pinned && $0.hosts.isEmpty }
    }

    mutating func join(_ host: ParsedHost) {
        var claimed: [IPNetwork: String] = [:]
        for (info, net) in host.interfaces {
            guard let net else {
                if !info.netAddress.isEmpty {
                    notes.append("\(host.name)/\(info.interfaceName): netAddress \"\(info.netAddress)\" is not a CIDR; skipped")
                }
                continue
            }
            guard isAllowed(net) else { continue }
            if let first = claimed[net] {
                notes.append("\(host.name): \(first) and \(info.interfaceName) are both on \(net); using \(first)")
                continue
            }
            claimed[net] = info.interfaceName
            guard let position = entryPosition[net] ?? addEntry(for: net, pinned: false) else { continue }
            place(host.name, info, inEntryAt: position)
        }
    }

    private mutating func place(_ hostName: String, _ info: InterfaceInfo, inEntryAt position: Int) {
        if var slot = entries[position].hosts[hostName] {
            slot.interfaceName = info.interfaceName
            slot.hostIP = info.hostIP
            entries[position].hosts[hostName] = slot
            if BlockMath.isTabu(slot.podCIDR, excludes: layout.excludes) {
                notes.append("\(hostName) on \(entries[position].netAddress): \(slot.podCIDR) is now excluded;"
                    + " it keeps the block while it stays (indices never move)")
            }
            return
        }
        guard let index = newHostIndex(in: entries[position]), let podCIDR = podBlock(in: entries[position], index: index)
        else {
            let entry = entries[position]
            notes.append("\(hostName) on \(entry.netAddress): no free host block in \(entry.vlanCIDR)"
                + " (hostBlock \(layout.hostBlock) gives \(entry.space.capacity)); not placed")
            return
        }
        let slot = HostSlot(hostIndex: index, interfaceName: info.interfaceName, hostIP: info.hostIP,
                            podCIDR: podCIDR, sequence: takeSequence())
        entries[position].insert(hostName, slot)
    }

    /// max(used)+1 skipping tabu blocks; once that runs past the end, the smallest free index.
    private func newHostIndex(in entry: PlanEntry) -> UInt64? {
        if layout.hostBlock == 0 {
            // Every host shares the interface block (host-subnet mode with per-host networks).
            return entry.space.isTabu(0) ? nil : 0
        }
        let start = entry.maxUsed.map { $0 + 1 } ?? 0
        if start < entry.space.capacity, let next = entry.space.nextAllowed(from: start) { return next }
        return entry.space.firstFree(used: entry.used)
    }
}
