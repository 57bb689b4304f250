#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// Payload encoding of journal records. The hot records (allocated, released) are a compact binary form written
/// under the IPAM lock, so it must be cheap; rare ones (pools, snapshot) are JSON.
///
/// `0x01 <json>` snapshot/pools/adopted/rekeyed · `0x02 <u32 count> <lease>…` allocated · `0x03 <f64 at> <u32 count> <key>…` released;
/// strings are `u16 length + UTF-8`, addresses `u8 family + 16 bytes`.
enum JournalCodec {
    static func encode(_ record: JournalRecord) throws -> [UInt8] {
        var writer = ByteWriter()
        switch record {
        case .snapshot, .pools, .adopted, .rekeyed:
            writer.bytes.append(1)
            writer.bytes += Array(try JSONEncoder().encode(record))
        case .allocated(let leases):
            writer.bytes.append(2)
            writer.u32(UInt32(leases.count))
            for lease in leases {
                writer.key(lease.key)
                writer.string(lease.pod.namespace)
                writer.string(lease.pod.name)
                writer.string(lease.pod.uid)
                writer.string(lease.pool)
                writer.string(lease.interfaceName)
                writer.address(lease.address)
                writer.bytes.append(UInt8(clamping: lease.prefixLength))
            }
        case .released(let keys, let at):
            writer.bytes.append(3)
            writer.u64(at.bitPattern)
            writer.u32(UInt32(keys.count))
            for key in keys { writer.key(key) }
        }
        return writer.bytes
    }

    /// `nil` when the payload is malformed (treated like a torn frame).
    static func decode(_ payload: ArraySlice<UInt8>) -> JournalRecord? {
        var reader = ByteReader(bytes: payload)
        switch reader.u8() {
        case 1:
            return try? JSONDecoder().decode(JournalRecord.self, from: Data(payload.dropFirst()))
        case 2:
            guard let count = reader.u32() else { return nil }
            var leases: [Lease] = []
            for _ in 0..<count {
                guard let key = reader.key(), let namespace = reader.string(), let name = reader.string(),
                      let uid = reader.string(), let pool = reader.string(), let interface = reader.string(),
                      let address = reader.address(), let prefix = reader.u8()
                else { return nil }
                leases.append(Lease(key: key, pod: PodRef(namespace: namespace, name: name, uid: uid), pool: pool,
                                    interfaceName: interface, address: address, prefixLength: Int(prefix)))
            }
            return reader.isAtEnd ? .allocated(leases) : nil
        case 3:
            guard let at = reader.u64(), let count = reader.u32() else { return nil }
            var keys: [AllocationKey] = []
            for _ in 0..<count {
                guard let key = reader.key() else { return nil }
                keys.append(key)
            }
            return reader.isAtEnd ? .released(keys, at: Double(bitPattern: at)) : nil
        default:
            return nil
        }
    }
}

private struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func string(_ text: String) {
        let utf8 = text.utf8
        let count = min(utf8.count, Int(UInt16.max))
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        bytes += utf8.prefix(count)
    }

    mutating func key(_ key: AllocationKey) {
        string(key.network)
        string(key.containerID)
        string(key.ifName)
    }

    mutating func address(_ address: IPAddress) {
        bytes.append(address.family == .v4 ? 4 : 6)
        for shift in stride(from: 120, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: address.value >> UInt128(shift))) }
    }
}

private struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        position = bytes.startIndex
    }

    var isAtEnd: Bool { position == bytes.endIndex }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.endIndex - position >= count else { return nil }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    mutating func u8() -> UInt8? { take(1)?.first }

    mutating func u32() -> UInt32? {
        take(4).map { $0.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(8 * $1.offset) } }
    }

    mutating func u64() -> UInt64? {
        take(8).map { $0.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) } }
    }

    mutating func string() -> String? {
        guard let length = take(2) else { return nil }
        let count = Int(length[length.startIndex]) | Int(length[length.startIndex + 1]) << 8
        return take(count).map { String(decoding: $0, as: UTF8.self) }
    }

    mutating func key() -> AllocationKey? {
        guard let network = string(), let container = string(), let ifName = string() else { return nil }
        return AllocationKey(network: network, containerID: container, ifName: ifName)
    }

    mutating func address() -> IPAddress? {
        guard let family = u8(), family == 4 || family == 6, let raw = take(16) else { return nil }
        let value = raw.reduce(UInt128(0)) { $0 << 8 | UInt128($1) }
        return IPAddress(family: family == 4 ? .v4 : .v6, value: value)
    }
}
