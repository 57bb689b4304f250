/// The sub-blocks of `base` with `bits` more prefix bits, numbered MSB-first: interface blocks of the global
/// subnet, or host blocks of an interface block. Knows which indices are tabu and finds free ones without
/// walking excluded ranges one index at a time.
struct IndexSpace: Sendable, Hashable {
    let base: IPNetwork
    let bits: Int
    let excludes: [IPNetwork]

    /// Number of indices (saturating for very wide spaces).
    var capacity: UInt64 { bits < 64 ? UInt64(1) << UInt64(bits) : UInt64.max }

    /// Prefix length of each sub-block.
    var blockPrefix: Int { base.prefixLength + bits }

    /// The block at `index`, or `nil` when the index is out of range.
    func block(_ index: UInt64) -> IPNetwork? {
        base.subnet(index: index, extraBits: bits)
    }

    /// True when the block at `index` lies inside an exclude at least as large as it.
    func isTabu(_ index: UInt64) -> Bool {
        guard let block = block(index) else { return true }
        return BlockMath.isTabu(block, excludes: excludes)
    }

    /// The first index ≥ `start` whose block is not tabu; `nil` when the space runs out.
    func nextAllowed(from start: UInt64) -> UInt64? {
        var candidate = start
        while candidate < capacity, let block = block(candidate) {
            guard let exclude = BlockMath.coveringExclude(of: block, excludes: excludes) else { return candidate }
            // Jump past the whole exclude: its last address belongs to index `last`.
            let shift = UInt128(base.family.bitWidth - blockPrefix)
            let last = (exclude.lastAddress.value - base.networkAddress.value) >> shift
            guard last < UInt128(capacity) else { return nil }
            candidate = UInt64(last) + 1
        }
        return nil
    }

    /// The smallest index that is neither used nor tabu; `nil` when the space is full.
    func firstFree(isUsed: (UInt64) -> Bool) -> UInt64? {
        var candidate: UInt64 = 0
        while let allowed = nextAllowed(from: candidate) {
            if !isUsed(allowed) { return allowed }
            candidate = allowed + 1
        }
        return nil
    }
}
