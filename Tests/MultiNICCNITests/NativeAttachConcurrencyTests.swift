import Foundation
import MultiNICCore
import MultiNICTestSupport
import Synchronization
import Testing

/// Many pods attaching at once on one node while the daemon admits few native attaches at a time (1 of 16, 8 of
/// 32): the others are answered 503 and `multi-nic` retries them, so every ADD succeeds, and DEL removes everything
/// again.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct NativeAttachConcurrencyTests {
    @Test(arguments: [(16, 1), (32, 8)])
    func podsAtOnceThroughFewAttachSlotsAllAttach(count: Int, slots: Int) throws {
        try CNICluster.with(hosts: 1, daemonArguments: ["--max-concurrent-attaches", "\(slots)"]) { cluster in
            let outcomes = Mutex<[Int: (Int32, String)]>([:])
            let group = DispatchGroup()
            nonisolated(unsafe) let shared = cluster
            for index in 0..<count {
                group.enter()
                // A thread each (not a pool of two): the ADDs must really overlap in the daemon.
                Thread {
                    let outcome = (try? shared.run("ADD", host: 0, config: shared.config("1.0.0", host: 0), container: "k\(index)",
                                                   ifName: "net\(index + 1)")) ?? (-1, "did not run")
                    outcomes.withLock { $0[index] = outcome }
                    group.leave()
                }.start()
            }
            group.wait()
            for (index, outcome) in outcomes.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
                #expect(outcome.0 == 0, "ADD \(index): \(outcome.1)")
            }
            let links = try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")
            #expect(links.split(separator: "\n").filter { $0.contains(": net") }.count == 2 * count, "\(links)")
            #expect(cluster.inUse(host: 0) == 2 * count)
            for index in 0..<count {
                let (code, output) = try cluster.run("DEL", host: 0, config: cluster.config("1.0.0", host: 0), container: "k\(index)",
                                                     ifName: "net\(index + 1)")
                #expect(code == 0, "DEL \(index): \(output)")
            }
            #expect(!(try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")).contains(": net"))
            #expect(cluster.inUse(host: 0) == 0)
        }
    }
}
