extension InterfaceInfo {
    /// True when this NIC is on `net`; the text compare settles the usual case without parsing.
    func isOn(_ net: IPNetwork, text: String) -> Bool {
        netAddress == text || (!netAddress.isEmpty && IPNetwork(netAddress)?.normalized == net)
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
        if blockCount > 0 {
            var current: [HostInterfaceSpec?] = Array(repeating: nil, count: hostNames.count)
            for host in hosts {
                if let id = hostIDs[host.hostName], current[id] == nil { current[id] = host }
            }
            for position in entries.indices {
                let (net, text) = (entries[position].netAddress, entries[position].netAddressText)
                for id in entries[position].slots.indices where entries[position].slots[id] != nil {
                    let keep: Bool
                    if let host = current[id] {
                        keep = host.interfaces.isEmpty || host.interfaces.contains { $0.netAddress == text }
                            || host.interfaces.contains { $0.isOn(net, text: text) }
                    } else {
                        keep = hostNames[id].map(existingNodes.contains) ?? false
                    }
                    if !keep { removeHost(id, fromEntryAt: position) }
                }
            }
            removeEntries { !$0.pinned && $0.hostCount == 0 }
        }
        let expected = hostIDs.count + hosts.count
        for position in entries.indices { entries[position].slots.reserveCapacity(expected) }
        for host in hosts { join(host) }
    }

    /// Adds one host (or refreshes it): each of its interfaces on an allowed network gets a pod block, keeping
    /// the index it already has. Does not remove blocks of interfaces the host no longer reports.
    public mutating func join(_ host: HostInterfaceSpec) {
        var claimed: [(position: Int, interfaceName: String)] = []
        let id = hostID(for: host.hostName)
        defer { if hostEntryCounts[id] == 0 { releaseUnusedHostID(id) } }
        for info in host.interfaces where !info.netAddress.isEmpty {
            guard let position = entryPosition(for: info, hostName: host.hostName) else { continue }
            if let first = claimed.first(where: { $0.position == position }) {
                notes.append("\(host.hostName): \(first.interfaceName) and \(info.interfaceName) are both on"
                    + " \(entries[position].netAddress); using \(first.interfaceName)")
                continue
            }
            claimed.append((position, info.interfaceName))
            place(id, host.hostName, info, inEntryAt: position)
        }
    }

    /// Removes a host from every interface network (its node is gone).
    public mutating func remove(hostName: String) {
        guard let id = hostIDs[hostName] else { return }
        for position in entries.indices { removeHost(id, fromEntryAt: position) }
        removeEntries { !$0.pinned && $0.hostCount == 0 }
    }

    /// The entry a NIC belongs to, created for a newly seen network when no masterNets are listed; `nil` when
    /// the NIC is on no allowed network (or its netAddress is unreadable, which is noted).
    private mutating func entryPosition(for info: InterfaceInfo, hostName: String) -> Int? {
        // Discovery writes canonical text, so a string compare finds the entry without parsing.
        if entries.count <= 16, let position = entries.firstIndex(where: { $0.netAddressText == info.netAddress }) {
            return position
        }
        guard let net = IPNetwork(info.netAddress)?.normalized else {
            notes.append("\(hostName)/\(info.interfaceName): netAddress \"\(info.netAddress)\" is not a CIDR; skipped")
            return nil
        }
        if let existing = entryPosition[net] { return existing }
        return layout.masterNets.isEmpty ? addEntry(for: net, pinned: false) : nil
    }

    private mutating func place(_ id: Int, _ hostName: String, _ info: InterfaceInfo, inEntryAt position: Int) {
        if var slot = entries[position].slot(id) {
            slot.interfaceName = info.interfaceName
            slot.hostIP = info.hostIP
            entries[position].insert(id, slot)
            if let podCIDR = podBlock(in: entries[position], index: slot.hostIndex),
                BlockMath.isTabu(podCIDR, excludes: layout.excludes) {
                notes.append("\(hostName) on \(entries[position].netAddress): \(podCIDR) is now excluded;"
                    + " it keeps the block while it stays (indices never move)")
            }
            return
        }
        guard let index = newHostIndex(in: entries[position]) else {
            let entry = entries[position]
            notes.append("\(hostName) on \(entry.netAddress): no free host block in \(entry.vlanCIDR)"
                + " (hostBlock \(layout.hostBlock) gives \(entry.space.capacity)); not placed")
            return
        }
        let slot = HostSlot(hostIndex: index, interfaceName: info.interfaceName, hostIP: info.hostIP,
                            sequence: takeSequence())
        entries[position].insert(id, slot)
        hostEntryCounts[id] += 1
    }

    /// max(used)+1 skipping tabu blocks; once that runs past the end, the smallest free index.
    private func newHostIndex(in entry: PlanEntry) -> UInt64? {
        if layout.hostBlock == 0 {
            // Every host shares the interface block (host-subnet mode with per-host networks).
            return entry.space.isTabu(0) ? nil : 0
        }
        let start = entry.used.max.map { $0 + 1 } ?? 0
        if start < entry.space.capacity, let next = entry.space.nextAllowed(from: start) { return next }
        return entry.space.firstFree(isUsed: entry.used.contains)
    }
}
