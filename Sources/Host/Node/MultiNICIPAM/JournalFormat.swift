#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the journal records, in order. Replaying them onto an empty state rebuilds the state.
enum JournalRecord: Codable, Sendable, Hashable {
    /// The whole state (first record after a compaction).
    case snapshot(IPAMSnapshot)
    case pools([PoolBlock])
    case allocated([Lease])
    case released([AllocationKey], at: Double)
    /// A pool set and the allocations of a taken-over cluster adopted with it (one record: a pool is never served
    /// without its adopted addresses).
    case adopted(pools: [PoolBlock], leases: [Lease], marks: [String])
    /// Pod-keyed leases handed to the containers that hold them.
    case rekeyed([Rekey])
}

/// The on-disk framing: `length (u32 LE) | crc32 of payload (u32 LE) | payload` (see ``JournalCodec``). A frame that is short,
/// too long or fails its checksum ends the readable journal (a torn write from a crash).
enum JournalFormat {
    static let headerSize = 8
    /// Larger frames are treated as garbage.
    static let maximumPayload = 64 << 20

    static func frame(_ record: JournalRecord) throws -> [UInt8] {
        let payload = try JournalCodec.encode(record)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + payload.count)
        append(UInt32(payload.count), to: &bytes)
        append(CRC32.checksum(payload), to: &bytes)
        bytes += payload
        return bytes
    }

    /// The records of `data` and the length of its valid prefix (everything after it is a torn tail).
    static func read(_ data: [UInt8]) -> (records: [JournalRecord], validLength: Int) {
        var records: [JournalRecord] = []
        var position = 0
        while data.count - position >= headerSize {
            let length = Int(load(data, at: position))
            let checksum = load(data, at: position + 4)
            let start = position + headerSize
            guard length <= maximumPayload, data.count - start >= length else { break }
            let payload = data[start..<(start + length)]
            guard CRC32.checksum(payload) == checksum, let record = JournalCodec.decode(payload) else { break }
            records.append(record)
            position = start + length
        }
        return (records, position)
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func load(_ data: [UInt8], at position: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[position + $1]) << UInt32(8 * $1) }
    }
}

/// CRC-32 (IEEE 802.3, as zlib computes it).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }

    static func checksum<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt32 {
        ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
