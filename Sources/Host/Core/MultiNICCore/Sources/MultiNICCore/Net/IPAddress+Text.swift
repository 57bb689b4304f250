/// Text → ``IPAddress``. Hand-written so that parsing tens of thousands of host records stays cheap and
/// does not depend on the C library's resolver functions.
enum IPAddressParser {
    static func parse(_ text: Substring) -> IPAddress? {
        if text.utf8.contains(UInt8(ascii: ":")) { return parseV6(text) }
        return parseV4(text.utf8).map { IPAddress(v4: $0) }
    }

    /// Strict dotted quad: four decimal octets, no leading zeros (which some parsers read as octal).
    static func parseV4(_ text: Substring) -> UInt32? { parseV4(text.utf8) }

    /// Works on bytes: parsing tens of thousands of host records must not pay for Character handling.
    static func parseV4<Bytes: Sequence<UInt8>>(_ text: Bytes) -> UInt32? {
        var result: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in text {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if digits == 1 && leadingZero { return nil }
                if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
                current = current * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || current > 255 { return nil }
            case UInt8(ascii: "."):
                guard digits > 0, octets < 3 else { return nil }
                result = result << 8 | current
                octets += 1
                current = 0
                digits = 0
            default:
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return result << 8 | current
    }

    /// RFC 4291 text: up to eight hex groups, at most one `::`, optionally an IPv4 tail.
    static func parseV6(_ text: Substring) -> IPAddress? {
        let halves = text.split(separator: "::", maxSplits: 2, omittingEmptySubsequences: false)
        guard halves.count <= 2 else { return nil }
        guard let head = parseGroups(halves[0], allowIPv4Tail: halves.count == 1) else { return nil }
        var groups = head
        if halves.count == 2 {
            guard let tail = parseGroups(halves[1], allowIPv4Tail: true), head.count + tail.count <= 7 else {
                return nil
            }
            groups += Array(repeating: 0, count: 8 - head.count - tail.count)
            groups += tail
        }
        guard groups.count == 8 else { return nil }
        var value: UInt128 = 0
        for group in groups { value = value << 16 | UInt128(group) }
        return IPAddress(family: .v6, value: value)
    }

    /// Colon-separated hex groups (empty text → no groups); the last may be a dotted quad.
    private static func parseGroups(_ text: Substring, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (position, part) in parts.enumerated() {
            if allowIPv4Tail && position == parts.count - 1 && part.contains(".") {
                guard let v4 = parseV4(part) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: v4 >> 16))
                groups.append(UInt16(truncatingIfNeeded: v4))
            } else {
                guard !part.isEmpty, part.utf8.count <= 4, part.utf8.allSatisfy(isHexDigit),
                    let group = UInt16(part, radix: 16)
                else { return nil }
                groups.append(group)
            }
        }
        return groups
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default:
            false
        }
    }
}

/// ``IPAddress`` → text (dotted quad; RFC 5952 for IPv6: lower case, longest zero run compressed).
enum IPAddressFormatter {
    static func format(_ address: IPAddress) -> String {
        switch address.family {
        case .v4: formatV4(UInt32(truncatingIfNeeded: address.value))
        case .v6: formatV6(address.value)
        }
    }

    static func formatV4(_ value: UInt32) -> String {
        formatV4(value, suffix: nil)
    }

    /// Dotted quad, optionally followed by `/prefix`.
    static func formatV4(_ value: UInt32, suffix prefixLength: Int?) -> String {
        // A stack buffer then String(decoding:): text of up to 15 bytes becomes a small string, no allocation.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var count = 0
            writeV4(value, separator: UInt8(ascii: "/"), suffix: prefixLength, into: buffer, at: &count)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    /// Writes `a.b.c.d` and, when `suffix` is given, `<separator><suffix>` at `position` (at most 19 bytes).
    static func writeV4(_ value: UInt32, separator: UInt8, suffix: Int?, into buffer: UnsafeMutableBufferPointer<UInt8>,
                        at position: inout Int) {
        func put(_ byte: UInt8) {
            buffer[position] = byte
            position += 1
        }
        func putDecimal(_ number: Int) {
            if number >= 100 { put(UInt8(ascii: "0") + UInt8(number / 100)) }
            if number >= 10 { put(UInt8(ascii: "0") + UInt8((number / 10) % 10)) }
            put(UInt8(ascii: "0") + UInt8(number % 10))
        }
        for shift in stride(from: 24, through: 0, by: -8) {
            putDecimal(Int((value >> UInt32(shift)) & 0xFF))
            if shift > 0 { put(UInt8(ascii: ".")) }
        }
        if let suffix {
            put(separator)
            putDecimal(suffix)
        }
    }

    /// The eight 16-bit groups of an IPv6 value, most significant first.
    static func groups(_ value: UInt128) -> [UInt16] {
        (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(112 - 16 * $0)) }
    }

    static func formatV6(_ value: UInt128) -> String {
        let groups = groups(value)
        // Find the longest run (≥ 2) of zero groups; the first one wins a tie.
        var bestStart = -1
        var bestLength = 1
        var runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                if index - runStart > bestLength {
                    bestStart = runStart
                    bestLength = index - runStart
                }
                runStart = -1
            }
        }
        var text = ""
        var index = 0
        while index < 8 {
            if index == bestStart {
                text += "::"
                index += bestLength
                continue
            }
            if !text.isEmpty && !text.hasSuffix(":") { text += ":" }
            text += String(groups[index], radix: 16)
            index += 1
        }
        return text
    }
}
