import MultiNICCore

/// The free-address search of one pool, as pure arithmetic on offsets from the block's network address.
///
/// Usable offsets: 1 … size−2 for IPv4 (no network or broadcast address), 1 … size−1 for IPv6 (no subnet-router
/// anycast). Allocation is rolling: the next offset after the last one handed out, wrapping around, so a
/// released address is the last to come back. Excluded ranges are jumped over; used and quarantined offsets
/// are skipped.
struct PoolAllocator: Sendable, Hashable {
    let block: IPNetwork
    /// Excluded offset ranges, sorted, inclusive.
    let excludedRanges: [ClosedRange<UInt128>]

    init(block: IPNetwork, excludes: [IPNetwork]) {
        self.block = block
        let base = block.networkAddress.value
        excludedRanges = excludes.compactMap { exclude -> ClosedRange<UInt128>? in
            let normal = exclude.normalized
            guard block.overlaps(normal) else { return nil }
            let start = max(normal.networkAddress.value, base) - base
            let end = min(normal.lastAddress.value, block.lastAddress.value) - base
            return start...end
        }.sorted { $0.lowerBound < $1.lowerBound }
    }

    var firstUsable: UInt128 { 1 }

    var lastUsable: UInt128 {
        let last = block.lastAddress.value - block.networkAddress.value
        // A /32 (or /31) has no usable IPv4 offset: never subtract below zero (pools are checked before they get here).
        return block.family == .v4 ? (last >= 1 ? last - 1 : 0) : last
    }

    /// Number of usable offsets before excludes.
    var usableCount: UInt128 { lastUsable >= firstUsable ? lastUsable - firstUsable + 1 : 0 }

    func address(at offset: UInt128) -> IPAddress {
        IPAddress(family: block.family, value: block.networkAddress.value + offset)
    }

    func offset(of address: IPAddress) -> UInt128? {
        guard block.contains(address) else { return nil }
        return address.value - block.networkAddress.value
    }

    func isExcluded(_ offset: UInt128) -> Bool {
        excludedRanges.contains { $0.contains(offset) }
    }

    /// The first free offset after `cursor` (wrapping), or `nil` when every usable offset is taken.
    /// `isTaken` answers for used and quarantined offsets.
    func next(after cursor: UInt128, isTaken: (UInt128) -> Bool, takenCount: Int) -> UInt128? {
        guard usableCount > 0 else { return nil }
        // A full pool is known without scanning when nothing is excluded.
        if excludedRanges.isEmpty && UInt128(takenCount) >= usableCount { return nil }
        var candidate = cursor >= lastUsable || cursor < firstUsable ? firstUsable : cursor + 1
        // Every usable offset is looked at (or jumped over) at most once.
        var seen: UInt128 = 0
        while seen < usableCount {
            if let range = excludedRanges.first(where: { $0.contains(candidate) }) {
                let end = min(range.upperBound, lastUsable)
                seen += end - candidate + 1
                candidate = end >= lastUsable ? firstUsable : end + 1
                continue
            }
            if !isTaken(candidate) { return candidate }
            seen += 1
            candidate = candidate >= lastUsable ? firstUsable : candidate + 1
        }
        return nil
    }
}
