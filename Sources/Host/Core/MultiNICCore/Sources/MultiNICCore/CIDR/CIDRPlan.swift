/// The CIDR of one network as a working state: interface blocks and, per interface network, which host holds
/// which pod block. Built from the config (and the previous CIDR, whose indices it keeps), then updated host by
/// host. A value type with no I/O: the controller keeps one in memory between reconciles.
///
/// Rules (upstream semantics, with its bugs fixed):
/// - interface indices follow `masterNets` order, skipping tabu blocks; later networks take the smallest free index;
/// - host indices are assigned per interface network: a new host gets max(used)+1, gaps are filled only once
///   that overflows; existing indices never move while the host stays;
/// - a host whose node still exists keeps its blocks even when its discovery is empty.
public struct CIDRPlan: Sendable {
    /// The config as given (masterNets as the network lists them).
    public let config: CIDRConfig
    /// The parsed config.
    public let layout: CIDRLayout
    var entries: [PlanEntry] = []
    var entryPosition: [IPNetwork: Int] = [:]
    var nextSequence: UInt64 = 0
    /// Hosts are numbered so per-block bookkeeping indexes arrays instead of hashing names. Numbers of hosts
    /// that left every entry are reused.
    var hostIDs: [String: Int] = [:]
    var hostNames: [String?] = []
    var hostEntryCounts: [Int] = []
    var freeHostIDs: [Int] = []
    /// Things the caller should tell the user: skipped interfaces, full blocks, duplicate NICs.
    public internal(set) var notes: [String] = []

    /// One interface network.
    struct PlanEntry: Sendable {
        let netAddress: IPNetwork
        /// Canonical text of `netAddress`: discovery reports it this way, so matching is a string compare.
        let netAddressText: String
        let interfaceIndex: Int
        let vlanCIDR: IPNetwork
        let pinned: Bool
        let space: IndexSpace
        /// Slot of host number `id` at `slots[id]`.
        var slots: [HostSlot?] = []
        var hostCount = 0
        var used = UsedIndices()

        func slot(_ id: Int) -> HostSlot? { id < slots.count ? slots[id] : nil }

        mutating func insert(_ id: Int, _ slot: HostSlot) {
            while id >= slots.count { slots.append(nil) }
            if slots[id] == nil { hostCount += 1 }
            slots[id] = slot
            used.insert(slot.hostIndex)
        }

        /// Removes a host's slot; true when it had one.
        mutating func remove(_ id: Int) -> Bool {
            guard let slot = slot(id) else { return false }
            slots[id] = nil
            hostCount -= 1
            // With hostBlock 0 every host shares index 0: keep it while anyone holds it.
            if space.bits == 0 && hostCount > 0 { return true }
            used.remove(slot.hostIndex)
            return true
        }
    }

    /// One host's pod block on one interface network.
    struct HostSlot: Sendable, Hashable {
        var hostIndex: UInt64
        var interfaceName: String
        var hostIP: String
        /// Order of arrival, to keep hosts that share an index (hostBlock 0) in a stable order.
        var sequence: UInt64
    }

    /// A plan with no hosts, or one continuing `previous`. Every listed master network gets its interface
    /// block now; a previous CIDR's indices are kept as they are.
    public init(config: CIDRConfig, previous: CIDRSpec? = nil) throws(CIDRError) {
        self.config = config
        layout = try CIDRLayout(config: config)
        if let previous { try load(previous) }
        for net in layout.masterNets where entryPosition[net] == nil {
            if addEntry(for: net, pinned: true) == nil, let space = layout.interfaceSpace {
                throw .interfaceIndexOverflow(netAddress: net.description, capacity: space.capacity)
            }
        }
    }

    /// True when the network uses each host interface's own network (no global subnet).
    public var isHostSubnetMode: Bool { layout.subnet == nil }

    /// Number of interface networks.
    public var interfaceCount: Int { entries.count }

    /// Number of (host, interface) pod blocks.
    public var blockCount: Int { entries.reduce(0) { $0 + $1.hostCount } }

    // MARK: - Entries

    /// Creates the entry of an interface network, or returns `nil` (with a note unless pinned) when it has no
    /// room: no free interface index, a tabu block, or too few bits for pods in host-subnet mode.
    @discardableResult
    mutating func addEntry(for net: IPNetwork, pinned: Bool) -> Int? {
        let usedIndices = Set(entries.map { UInt64($0.interfaceIndex) })
        let index: UInt64
        let vlanCIDR: IPNetwork
        if let space = layout.interfaceSpace {
            guard let free = space.firstFree(isUsed: usedIndices.contains), let block = space.block(free) else {
                if !pinned { notes.append("\(net): no interface block left (interfaceBlock \(layout.interfaceBlock))") }
                return nil
            }
            (index, vlanCIDR) = (free, block)
        } else {
            guard net.prefixLength + layout.hostBlock <= net.family.bitWidth - NetworkLimits.minPodBits else {
                notes.append("\(net): hostBlock \(layout.hostBlock) leaves fewer than \(NetworkLimits.minPodBits)"
                    + " address bits per host in this network; skipped")
                return nil
            }
            if BlockMath.isTabu(net, excludes: layout.excludes) {
                notes.append("\(net): the whole network is excluded; skipped")
                return nil
            }
            index = (0...UInt64(entries.count)).first { !usedIndices.contains($0) } ?? UInt64(entries.count)
            vlanCIDR = net
        }
        let entry = PlanEntry(netAddress: net, netAddressText: net.description, interfaceIndex: Int(index),
                              vlanCIDR: vlanCIDR, pinned: pinned,
                              space: layout.hostSpace(of: vlanCIDR))
        entries.append(entry)
        entryPosition[net] = entries.count - 1
        return entries.count - 1
    }

    /// Removes entries (by position) and rebuilds the lookup.
    mutating func removeEntries(where shouldRemove: (PlanEntry) -> Bool) {
        entries.removeAll(where: shouldRemove)
        entryPosition = [:]
        for (position, entry) in entries.enumerated() { entryPosition[entry.netAddress] = position }
    }

    // MARK: - Loading a previous CIDR

    private mutating func load(_ previous: CIDRSpec) throws(CIDRError) {
        let old = try CIDRLayout(config: previous.config)
        func check(_ field: String, _ before: String, _ now: String) throws(CIDRError) {
            if before != now { throw .immutableChange(field: field, previous: before, current: now) }
        }
        try check("spec.subnet", old.subnet?.description ?? "\"\"", layout.subnet?.description ?? "\"\"")
        try check("spec.ipam.interfaceBlock", String(old.interfaceBlock), String(layout.interfaceBlock))
        try check("spec.ipam.hostBlock", String(old.hostBlock), String(layout.hostBlock))
        for (entryNumber, stored) in previous.cidr.enumerated() {
            let path = "spec.cidr[\(entryNumber)]"
            guard let net = IPNetwork(stored.netAddress)?.normalized else {
                throw .corruptPrevious(FieldIssue(path + ".netAddress", "\"\(stored.netAddress)\" is not a CIDR"))
            }
            guard layout.masterNets.isEmpty || layout.masterNets.contains(net) else {
                notes.append("\(net): no longer in masterNets; its \(stored.hosts.count) host block(s) are dropped")
                continue
            }
            let vlanCIDR: IPNetwork
            if let space = layout.interfaceSpace {
                guard stored.interfaceIndex >= 0, let block = space.block(UInt64(stored.interfaceIndex)) else {
                    throw .corruptPrevious(FieldIssue(path + ".interfaceIndex", "\(stored.interfaceIndex) is out of range"))
                }
                vlanCIDR = block
            } else {
                vlanCIDR = net
            }
            var entry = PlanEntry(netAddress: net, netAddressText: net.description,
                                  interfaceIndex: stored.interfaceIndex, vlanCIDR: vlanCIDR,
                                  pinned: layout.masterNets.contains(net), space: layout.hostSpace(of: vlanCIDR))
            for (hostNumber, host) in stored.hosts.enumerated() {
                guard host.hostIndex >= 0, let podCIDR = podBlock(in: entry, index: UInt64(host.hostIndex)) else {
                    throw .corruptPrevious(
                        FieldIssue("\(path).hosts[\(hostNumber)].hostIndex", "\(host.hostIndex) is out of range"))
                }
                if podCIDR.description != host.podCIDR {
                    notes.append("\(host.hostName) on \(net): podCIDR \(host.podCIDR) corrected to \(podCIDR)")
                }
                let slot = HostSlot(hostIndex: UInt64(host.hostIndex), interfaceName: host.interfaceName,
                                    hostIP: host.hostIP, sequence: takeSequence())
                let id = hostID(for: host.hostName)
                if entry.slot(id) == nil { hostEntryCounts[id] += 1 }
                entry.insert(id, slot)
            }
            entries.append(entry)
            entryPosition[net] = entries.count - 1
        }
    }

    /// The pod block of host `index` in an entry (with hostBlock 0, index 0 is the whole interface block).
    func podBlock(in entry: PlanEntry, index: UInt64) -> IPNetwork? {
        entry.space.block(index)
    }

    /// The number of a host, allocated on first sight.
    mutating func hostID(for name: String) -> Int {
        if let id = hostIDs[name] { return id }
        let id: Int
        if let reused = freeHostIDs.popLast() {
            id = reused
            hostNames[id] = name
        } else {
            id = hostNames.count
            hostNames.append(name)
            hostEntryCounts.append(0)
        }
        hostIDs[name] = id
        return id
    }

    /// Removes host `id` from the entry at `position`, releasing its number once it is in no entry.
    mutating func removeHost(_ id: Int, fromEntryAt position: Int) {
        guard entries[position].remove(id) else { return }
        hostEntryCounts[id] -= 1
        if hostEntryCounts[id] == 0 { releaseUnusedHostID(id) }
    }

    /// Frees the number of a host that holds no block.
    mutating func releaseUnusedHostID(_ id: Int) {
        guard let name = hostNames[id] else { return }
        hostIDs[name] = nil
        hostNames[id] = nil
        freeHostIDs.append(id)
    }

    mutating func takeSequence() -> UInt64 {
        nextSequence += 1
        return nextSequence
    }
}
