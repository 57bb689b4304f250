import Foundation
@testable import MultiNICLab
import MultiNICTestSupport
import Testing

/// `multinicctl lab ping`, the chaos run's ping mesh: one process sends every echo of a source address.
struct LabPingerTests {
    @Test func anEchoRequestCarriesAValidChecksum() {
        let packet = LabPinger.echoRequest(identifier: 0xBEEF, sequence: 7)
        #expect(packet[0] == 8 && packet[1] == 0)
        var sum: UInt32 = 0
        for index in stride(from: 0, to: packet.count, by: 2) { sum += UInt32(packet[index]) << 8 | UInt32(packet[index + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
        #expect(sum == 0xFFFF, "the one's-complement sum over a packet with its checksum is all ones")
    }

    @Test func onlyEchoRepliesWithOurIdentifierCount() {
        // IPv4 header (20 bytes, source 10.250.0.2) + ICMP echo reply, identifier 0x1234.
        var reply: [UInt8] = [0x45, 0, 0, 36, 0, 0, 0, 0, 64, 1, 0, 0, 10, 250, 0, 2, 10, 250, 0, 1]
        reply += [0, 0, 0, 0, 0x12, 0x34, 0, 1] + Array(repeating: 0, count: 8)
        #expect(LabPinger.echoReplySource(reply, identifier: 0x1234) == 0x0AFA_0002)
        #expect(LabPinger.echoReplySource(reply, identifier: 0x4321) == nil, "another pinger's reply")
        var request = reply
        request[20] = 8
        #expect(LabPinger.echoReplySource(request, identifier: 0x1234) == nil, "an echo request is no answer")
        #expect(LabPinger.echoReplySource(Array(reply.prefix(24)), identifier: 0x1234) == nil, "a cut packet")
    }

    @Test(.enabled(if: TestNamespace.canCreate, "needs root and iproute2 (CI runs as root)"))
    func reportsExactlyTheTargetsThatDoNotAnswer() throws {
        let multinicctl = try BuiltPlugins.executable("multinicctl").path
        try TestNamespace.withMany(2) { names in
            try TestNamespace.ip("-n", names[0], "link", "add", "pa", "type", "veth", "peer", "name", "pb", "netns", names[1])
            try TestNamespace.ip("-n", names[0], "addr", "add", "10.250.0.1/24", "dev", "pa")
            try TestNamespace.ip("-n", names[1], "addr", "add", "10.250.0.2/24", "dev", "pb")
            try TestNamespace.ip("-n", names[0], "link", "set", "pa", "up")
            try TestNamespace.ip("-n", names[1], "link", "set", "pb", "up")
            let result = try LabShell.inNamespace(names[0], [multinicctl, "lab", "ping", "--from", "10.250.0.1", "--deadline", "2",
                                                             "10.250.0.2", "10.250.0.3", "10.250.0.1"])
            #expect(result.output.split(separator: "\n").map(String.init) == ["10.250.0.3"], "\(result.output)")
            // The peer gone: nothing answers.
            try TestNamespace.ip("-n", names[1], "link", "set", "pb", "down")
            let silent = try LabShell.inNamespace(names[0], [multinicctl, "lab", "ping", "--from", "10.250.0.1", "--deadline", "1",
                                                             "10.250.0.2"])
            #expect(silent.output.split(separator: "\n").map(String.init) == ["10.250.0.2"], "\(silent.output)")
        }
    }
}
