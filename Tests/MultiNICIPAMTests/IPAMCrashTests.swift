import Foundation
import MultiNICCore
import MultiNICIPAM
import MultiNICTestSupport
import Testing

/// Kills an allocating process with SIGKILL at random moments, 20 times over one state directory: every
/// acknowledged allocation must survive, every acknowledged release must stay released, and no address may ever be
/// held twice.
@Suite(.ownThread) struct IPAMCrashTests {
    @Test func acknowledgedChangesSurviveSIGKILL() async throws {
        try await withStateDirectory { directory in
            let binary = try BuiltPlugins.executable("IPAMCrashHelper")
            var random = SeededRandom(seed: 2026)
            var acknowledged: [String: [String]] = [:]  // containerID → addresses
            var released: Set<String> = []
            var openTimes: [Int] = []
            for round in 0..<20 {
                let process = Process()
                process.executableURL = binary
                process.arguments = [directory, String(round)]
                let output = Pipe()
                process.standardOutput = output
                process.standardError = FileHandle.nullDevice
                try process.run()
                let stopAfter = Int.random(in: 5...400, using: &random)
                var buffer = Data()
                var lines: [String] = []
                let reader = output.fileHandleForReading
                while lines.filter({ $0.hasPrefix("ACK") }).count < stopAfter {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    buffer += chunk
                    while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                        lines.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                        buffer = Data(buffer[(newline + 1)...])
                    }
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(process.terminationReason == .uncaughtSignal, "round \(round): the helper stopped by itself: \(lines.suffix(3))")
                for line in lines {
                    let fields = line.split(separator: " ").map(String.init)
                    switch fields.first {
                    case "OPEN": openTimes.append(Int(fields[1]) ?? -1)
                    case "ACK": acknowledged[fields[1]] = Array(fields[2...])
                    case "REL": released.insert(fields[1])
                    case "ERR": Issue.record("round \(round): \(line)")
                    default: break
                    }
                }
            }
            // Open the state the way a restarted daemon would, and check every acknowledgement.
            let service = try IPAMService(directory: directory, quarantineSeconds: 0)
            let leases = service.current.leases.values
            let held = Dictionary(grouping: leases, by: \.key.containerID).mapValues { $0.sorted { $0.key.ifName < $1.key.ifName }.map(\.address.description) }
            for (container, addresses) in acknowledged where !released.contains(container) {
                // Every third container is released right after its ACK; a kill between that release becoming
                // durable and its REL line leaves it legitimately gone. All others must be held, unchanged.
                let releaseInFlight = container.split(separator: "-").last.flatMap { Int($0) }.map { $0 % 3 == 0 } ?? false
                if releaseInFlight && held[container] == nil { continue }
                #expect(held[container] == addresses, "acknowledged allocation of \(container) lost or changed")
            }
            for container in released { #expect(held[container] == nil, "acknowledged release of \(container) undone") }
            #expect(Set(leases.map(\.address)).count == leases.count, "an address is held twice")
            #expect(acknowledged.count > 20 * 5)
            #expect(openTimes.count == 20)
            #expect(openTimes.allSatisfy { $0 >= 0 })
            print("crash test: \(acknowledged.count) acknowledged allocations, \(released.count) releases, open times (ms): \(openTimes)")
        }
    }
}
