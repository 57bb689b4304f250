import Foundation
import MultiNICCore
import MultiNICTestSupport
import Synchronization
import Testing

/// multi-nicd killed with SIGKILL in the middle of a native 4-NIC ADD (two links made, two to go): the ADD fails,
/// and once a new daemon runs over the same journal, a DEL — or the runtime's retried ADD and then its DEL — leaves
/// no link and no address behind.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct NativeAttachCrashTests {
    enum Next: String, CaseIterable { case delete, retriedAdd }

    @Test(arguments: Next.allCases)
    func aDaemonKilledMidAttachLeavesNothingBehind(next: Next) throws {
        try CNICluster.with(hosts: 1, nics: 4) { cluster in
            let host = cluster.hosts[0]
            try host.restartDaemon(environment: ["MULTINIC_TEST_PAUSE_NATIVE_ATTACH_AFTER": "2"])
            let config = cluster.config("1.0.0", host: 0)
            let outcome = Mutex<(Int32, String)?>(nil)
            nonisolated(unsafe) let shared = cluster
            let adding = Thread {
                let result = (try? shared.run("ADD", host: 0, config: config, container: "crash")) ?? (-1, "did not run")
                outcome.withLock { $0 = result }
            }
            adding.start()
            // The daemon pauses once net1-0 and net1-1 exist in the pod.
            var made: [String] = []
            for _ in 0..<500 where made.count < 2 {
                made = podLinks(cluster)
                if made.count < 2 { Thread.sleep(forTimeInterval: 0.01) }
            }
            try #require(made == ["net1-0", "net1-1"], "two links before the kill: \(made)")
            #expect(cluster.inUse(host: 0) == 4, "all four addresses are in the journal before the first link")
            host.daemon.kill()
            for _ in 0..<1000 where outcome.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.01) }
            let failed = try #require(outcome.withLock { $0 })
            #expect(failed.0 != 0, "the interrupted ADD fails: \(failed.1)")
            #expect(failed.1.contains("\"code\""), "with the spec's error JSON: \(failed.1)")

            try host.restartDaemon()
            #expect(cluster.inUse(host: 0) == 4, "the journal still holds the interrupted ADD's addresses")
            switch next {
            case .delete:
                let (code, output) = try cluster.run("DEL", host: 0, config: config, container: "crash")
                #expect(code == 0, "\(output)")
            case .retriedAdd:
                let (code, output) = try cluster.run("ADD", host: 0, config: config, container: "crash")
                #expect(code == 0, "\(output)")
                #expect(podLinks(cluster) == ["net1-0", "net1-1", "net1-2", "net1-3"])
                #expect(cluster.inUse(host: 0) == 4, "the retried ADD holds four addresses, not eight")
                let result = try JSONValue.parse(output)
                #expect(result.objectValue?["ips"]?.arrayValue?.count == 4)
                let (deleted, deleteOutput) = try cluster.run("DEL", host: 0, config: config, container: "crash")
                #expect(deleted == 0, "\(deleteOutput)")
            }
            #expect(podLinks(cluster).isEmpty, "no link left")
            #expect(cluster.inUse(host: 0) == 0, "no address left")
        }
    }

    /// The per-NIC links of `net1` in the pod's namespace, sorted.
    func podLinks(_ cluster: CNICluster) -> [String] {
        let text = (try? TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")) ?? ""
        return text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return nil }
            let name = String(fields[1].dropLast().split(separator: "@").first ?? "")
            return LinuxInterfaceName.isPerNIC(name, of: "net1") ? name : nil
        }.sorted()
    }
}
