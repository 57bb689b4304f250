/// A set of block indices kept as a sorted array: new hosts almost always take max+1, so inserting is an
/// append, lookups are a binary search, and the maximum is the last element.
struct UsedIndices: Sendable, Hashable {
    private(set) var sorted: [UInt64] = []

    /// The largest index, if any.
    var max: UInt64? { sorted.last }

    var isEmpty: Bool { sorted.isEmpty }

    func contains(_ index: UInt64) -> Bool {
        let position = insertionPoint(index)
        return position < sorted.count && sorted[position] == index
    }

    mutating func insert(_ index: UInt64) {
        if let last = sorted.last, index <= last {
            let position = insertionPoint(index)
            if sorted[position] != index { sorted.insert(index, at: position) }
        } else {
            sorted.append(index)
        }
    }

    mutating func remove(_ index: UInt64) {
        let position = insertionPoint(index)
        if position < sorted.count && sorted[position] == index { sorted.remove(at: position) }
    }

    /// The first position whose element is ≥ `index`.
    private func insertionPoint(_ index: UInt64) -> Int {
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < index { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
