import Foundation
import MultiNICCore
import MultiNICIPAM
import MultiNICTestSupport
import Testing

/// The real `multi-nicd`, allocated from over its socket by 8 clients and killed with SIGKILL at a random moment,
/// 20 times over one state directory: no acknowledged allocation is lost, no address is ever held twice, and the
/// daemon answers again quickly after each restart.
@Suite(.ownThread, .serialized) struct DaemonCrashTests {
    final class Acknowledged: @unchecked Sendable {
        // @unchecked: every access goes through `lock`.
        private var entries: [String: String] = [:]
        private let lock = NSLock()

        func record(_ container: String, _ body: String) {
            lock.lock()
            entries[container] = body
            lock.unlock()
        }

        var count: Int {
            lock.lock()
            defer { lock.unlock() }
            return entries.count
        }

        var all: [String: String] {
            lock.lock()
            defer { lock.unlock() }
            return entries
        }
    }

    @Test func acknowledgedAllocationsSurviveSIGKILLOfTheDaemon() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-crash-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/d.sock"
        let acknowledged = Acknowledged()
        var random = SystemRandomNumberGenerator()
        var restartTimes: [Duration] = []
        try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
            for round in 0..<20 {
                let clock = ContinuousClock()
                let started = clock.now
                let daemon = try RunningDaemon(directory: directory, pluginsDirectory: plugins)
                restartTimes.append(clock.now - started)
                let stopAfter = acknowledged.count + Int.random(in: 5...150, using: &random)
                let workers = (0..<8).map { worker in
                    Thread {
                        guard let client = UnixHTTPClient(path: socket) else { return }
                        var index = 0
                        while true {
                            index += 1
                            let container = "r\(round)-w\(worker)-\(index)"
                            let body = #"{"pod":"\#(container)","namespace":"crash","host":"n1","def":"net","masters":["lo"],"containerID":"\#(container)","ifNames":["net1"]}"#
                            guard let answer = client.request("POST", "/allocate", body: body), answer.status == 200 else { return }
                            acknowledged.record(container, answer.body)
                        }
                    }
                }
                workers.forEach { $0.start() }
                while acknowledged.count < stopAfter { Thread.sleep(forTimeInterval: 0.001) }
                daemon.kill()
            }
        }
        let state = try IPAMService(directory: directory + "/state/ipam", quarantineSeconds: 0).current
        let held = Dictionary(uniqueKeysWithValues: state.leases.values.map { ($0.key.containerID, $0.address.description) })
        for (container, answer) in acknowledged.all {
            let address = try #require(held[container], "acknowledged allocation of \(container) lost")
            #expect(answer.contains(#""ip":"\#(address)""#), "\(container) changed address")
        }
        #expect(Set(state.leases.values.map(\.address)).count == state.leases.count, "an address is held twice")
        #expect(acknowledged.count >= 20 * 5)
        print("daemon crash test: \(acknowledged.count) acknowledged allocations over 20 SIGKILLs; time to first answer after start: "
            + "\(restartTimes.map { "\(Int(Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000))ms" })")
    }
}
