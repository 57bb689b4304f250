/// The address family of an ``IPAddress`` or ``IPNetwork``.
public enum IPFamily: Sendable, Hashable, CustomStringConvertible {
    case v4
    case v6

    /// Number of bits in an address of this family (32 or 128).
    public var bitWidth: Int {
        switch self {
        case .v4: 32
        case .v6: 128
        }
    }

    /// All-ones value for this family, as a 128-bit integer.
    public var allOnes: UInt128 {
        switch self {
        case .v4: UInt128(UInt32.max)
        case .v6: UInt128.max
        }
    }

    public var description: String {
        switch self {
        case .v4: "IPv4"
        case .v6: "IPv6"
        }
    }
}

/// An IPv4 or IPv6 address held as an unsigned integer, so every piece of block arithmetic is the same
/// code for both families. IPv4 addresses use the low 32 bits.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address family.
    public let family: IPFamily
    /// The address as an integer (network byte order read as a big-endian number).
    public let value: UInt128

    /// Creates an address; bits beyond the family's width are dropped.
    public init(family: IPFamily, value: UInt128) {
        self.family = family
        self.value = value & family.allOnes
    }

    /// Creates an IPv4 address from its 32-bit value.
    public init(v4 value: UInt32) {
        self.init(family: .v4, value: UInt128(value))
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; `nil` when the text is neither.
    public init?(_ text: some StringProtocol) {
        guard let parsed = IPAddressParser.parse(Substring(text)) else { return nil }
        self = parsed
    }

    /// The address `offset` positions after this one, or `nil` when that leaves the family's range.
    public func advanced(by offset: UInt128) -> IPAddress? {
        let (sum, overflow) = value.addingReportingOverflow(offset)
        guard !overflow, sum <= family.allOnes else { return nil }
        return IPAddress(family: family, value: sum)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        return lhs.value < rhs.value
    }

    /// Canonical text: dotted quad for IPv4, RFC 5952 for IPv6.
    public var description: String {
        IPAddressFormatter.format(self)
    }
}

extension IPAddress: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not an IPv4 or IPv6 address")
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
