import Foundation
import MultiNICCore

/// One ICMP echo to each of many IPv4 targets from one source address, in one process (`multinicctl lab ping`, run
/// inside a pod's namespace): the chaos run's ping mesh at soak size would otherwise be tens of thousands of `ping`
/// processes. Needs a raw socket (root). A target is reached when its echo reply arrives within the deadline;
/// requests are sent again every `resendSeconds` to the targets not heard from yet (a first packet may wait on ARP).
public enum LabPinger {
    /// The targets of `targets` that did not answer; throws when the socket cannot be made or bound.
    public static func unreachable(from source: String, targets: [String], deadlineSeconds: Double = 3,
                                   resendSeconds: Double = 0.5) throws(LabError) -> [String] {
        guard let sourceAddress = IPAddress(source), sourceAddress.family == .v4 else { throw LabError("not an IPv4 address: \(source)") }
        var waiting: [UInt32: String] = [:]
        for target in targets {
            guard let address = IPAddress(target), address.family == .v4 else { throw LabError("not an IPv4 address: \(target)") }
            waiting[UInt32(truncatingIfNeeded: address.value)] = target
        }
        let descriptor = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_ICMP))
        guard descriptor >= 0 else { throw LabError("raw ICMP socket: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var local = sockaddrIn(UInt32(truncatingIfNeeded: sourceAddress.value))
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw LabError("bind to \(source): \(String(cString: strerror(errno)))") }
        let identifier = UInt16(truncatingIfNeeded: getpid())
        let start = ContinuousClock.now
        var sentAt = -Double.infinity
        var sequence: UInt16 = 0
        while !waiting.isEmpty {
            let elapsed = LabChurn.seconds(ContinuousClock.now - start)
            if elapsed >= deadlineSeconds { break }
            if elapsed - sentAt >= resendSeconds {
                sentAt = elapsed
                sequence &+= 1
                for target in waiting.keys { send(descriptor, to: target, identifier: identifier, sequence: sequence) }
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let waitMs = Int32(max(1, min(resendSeconds - (elapsed - sentAt), deadlineSeconds - elapsed) * 1000))
            guard poll(&poller, 1, waitMs) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 1500)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0, let from = echoReplySource(Array(buffer[0..<count]), identifier: identifier) else { continue }
            waiting[from] = nil
        }
        return waiting.values.sorted()
    }

    /// The source of an IPv4 packet when it is an echo reply with our identifier.
    static func echoReplySource(_ packet: [UInt8], identifier: UInt16) -> UInt32? {
        guard packet.count >= 20, packet[0] >> 4 == 4 else { return nil }
        let headerLength = Int(packet[0] & 0x0F) * 4
        guard packet.count >= headerLength + 8, packet[headerLength] == 0,
              UInt16(packet[headerLength + 4]) << 8 | UInt16(packet[headerLength + 5]) == identifier else { return nil }
        return packet[12..<16].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// An ICMP echo request (type 8) with its checksum.
    static func echoRequest(identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += Array("multinic-lab-ping".utf8)
        if packet.count % 2 == 1 { packet.append(0) }
        var sum: UInt32 = 0
        for index in stride(from: 0, to: packet.count, by: 2) { sum += UInt32(packet[index]) << 8 | UInt32(packet[index + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        let checksum = ~UInt16(truncatingIfNeeded: sum)
        packet[2] = UInt8(checksum >> 8)
        packet[3] = UInt8(checksum & 0xFF)
        return packet
    }

    private static func send(_ descriptor: Int32, to target: UInt32, identifier: UInt16, sequence: UInt16) {
        var destination = sockaddrIn(target)
        let packet = echoRequest(identifier: identifier, sequence: sequence)
        _ = withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(descriptor, packet, packet.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private static func sockaddrIn(_ address: UInt32) -> sockaddr_in {
        var value = sockaddr_in()
        value.sin_family = sa_family_t(AF_INET)
        value.sin_addr.s_addr = address.bigEndian
        return value
    }
}
