/// Why a piece of text is not a CIDR; the message is written to follow a field path.
public enum NetworkParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case missingPrefix(String)
    case badAddress(String)
    case badPrefix(String, maximum: Int)

    public var description: String {
        switch self {
        case .missingPrefix(let text): "\"\(text)\" is not a CIDR: expected address/prefix, e.g. 192.168.0.0/16"
        case .badAddress(let text): "\"\(text)\" is not a CIDR: the address is not valid IPv4 or IPv6"
        case .badPrefix(let text, let maximum):
            "\"\(text)\" is not a CIDR: the prefix length must be a number from 0 to \(maximum)"
        }
    }
}

/// An address with a prefix length: `192.168.0.0/16`, `fd00:10::/48`. The address is kept as written, so a
/// non-normalised value (`192.168.64.0/16`) can be reported rather than silently fixed.
public struct IPNetwork: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address as written.
    public let address: IPAddress
    /// The prefix length, 0…32 or 0…128.
    public let prefixLength: Int

    /// The family of the address.
    public var family: IPFamily { address.family }

    /// Creates a network; `prefixLength` must be within the family's width.
    public init(address: IPAddress, prefixLength: Int) {
        precondition(prefixLength >= 0 && prefixLength <= address.family.bitWidth, "prefix out of range")
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/prefix`; `nil` on any error (use ``parse(_:)`` for the reason).
    public init?(_ text: some StringProtocol) {
        guard case .success(let network) = Self.parse(text) else { return nil }
        self = network
    }

    /// Parses `address/prefix`, or — with `bareAddressAsHost` — a bare address as a /32 or /128.
    public static func parse(
        _ text: some StringProtocol, bareAddressAsHost: Bool = false
    ) -> Result<IPNetwork, NetworkParseError> {
        let whole = Substring(text)
        guard let slash = whole.utf8.firstIndex(of: UInt8(ascii: "/")) else {
            if bareAddressAsHost, let address = IPAddressParser.parse(whole) {
                return .success(IPNetwork(address: address, prefixLength: address.family.bitWidth))
            }
            return .failure(IPAddressParser.parse(whole) == nil ? .badAddress(String(whole)) : .missingPrefix(String(whole)))
        }
        guard let address = IPAddressParser.parse(whole[..<slash]) else { return .failure(.badAddress(String(whole))) }
        let maximum = address.family.bitWidth
        var prefix = 0
        var digits = 0
        for byte in whole.utf8[whole.utf8.index(after: slash)...] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < 3 else {
                return .failure(.badPrefix(String(whole), maximum: maximum))
            }
            prefix = prefix * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0, prefix <= maximum else { return .failure(.badPrefix(String(whole), maximum: maximum)) }
        return .success(IPNetwork(address: address, prefixLength: prefix))
    }

    /// Number of bits after the prefix.
    public var hostBits: Int { family.bitWidth - prefixLength }

    /// The mask of the prefix as an integer of the family's width.
    public var mask: UInt128 {
        guard prefixLength > 0 else { return 0 }
        return (family.allOnes >> UInt128(hostBits)) << UInt128(hostBits)
    }

    /// The first address of the network (host bits cleared).
    public var networkAddress: IPAddress { IPAddress(family: family, value: address.value & mask) }

    /// The last address of the network (host bits set).
    public var lastAddress: IPAddress { IPAddress(family: family, value: address.value | ~mask) }

    /// True when the address has no host bits set.
    public var isNormalized: Bool { address.value & ~mask & family.allOnes == 0 }

    /// The same network with host bits cleared: `192.168.64.0/16` → `192.168.0.0/16`.
    public var normalized: IPNetwork { IPNetwork(address: networkAddress, prefixLength: prefixLength) }

    /// True when `other` lies in this network.
    public func contains(_ other: IPAddress) -> Bool {
        other.family == family && other.value & mask == address.value & mask
    }

    /// True when every address of `other` lies in this network.
    public func contains(_ other: IPNetwork) -> Bool {
        other.family == family && other.prefixLength >= prefixLength && contains(other.address)
    }

    /// True when the two networks share at least one address.
    public func overlaps(_ other: IPNetwork) -> Bool {
        contains(other) || other.contains(self)
    }

    /// The `index`-th sub-block of `extraBits` more prefix bits, laid MSB-first directly after the prefix:
    /// `192.168.0.0/16`, index 1, 2 bits → `192.168.64.0/18`. `nil` when the index does not fit in
    /// `extraBits` or the new prefix would exceed the family's width.
    public func subnet(index: UInt64, extraBits: Int) -> IPNetwork? {
        guard extraBits >= 0, prefixLength + extraBits <= family.bitWidth else { return nil }
        guard extraBits < 64 ? index < (UInt64(1) << UInt64(extraBits)) : true else { return nil }
        let shift = UInt128(family.bitWidth - prefixLength - extraBits)
        let value = networkAddress.value | (UInt128(index) << shift)
        return IPNetwork(address: IPAddress(family: family, value: value), prefixLength: prefixLength + extraBits)
    }

    /// Number of addresses, saturating at `UInt128.max` for an IPv6 /0.
    public var addressCount: UInt128 {
        hostBits >= 128 ? UInt128.max : UInt128(1) << UInt128(hostBits)
    }

    public static func < (lhs: IPNetwork, rhs: IPNetwork) -> Bool {
        if lhs.address != rhs.address { return lhs.address < rhs.address }
        return lhs.prefixLength < rhs.prefixLength
    }

    /// `address/prefix`, with the address in canonical form.
    public var description: String {
        if family == .v4 {
            // The hot path of CIDR output: one allocation.
            return IPAddressFormatter.formatV4(UInt32(truncatingIfNeeded: address.value), suffix: prefixLength)
        }
        return "\(address)/\(prefixLength)"
    }
}

extension IPNetwork: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch Self.parse(text) {
        case .success(let network): self = network
        case .failure(let error):
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
