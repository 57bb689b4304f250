import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// DEL always succeeds once nothing is left, and always releases: without ADD, twice, with an empty or missing
/// netns, with the daemon down (queued, replayed when it starts).
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct MultiNICDeleteMatrixTests {
    @Test func delWithoutAddSucceeds() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let (code, output) = try cluster.run("DEL", host: 0, config: cluster.config("1.0.0", host: 0), container: "never-added")
            #expect(code == 0 && output.isEmpty, "\(output)")
        }
    }

    @Test(arguments: ["", "/var/run/netns/mntest-gone"])
    func delWithAnEmptyOrMissingNetnsStillReleases(netns: String) throws {
        try CNICluster.with(hosts: 1) { cluster in
            let (code, result) = try cluster.run("ADD", host: 0, config: cluster.config("1.0.0", host: 0))
            try #require(code == 0, "\(result)")
            #expect(cluster.inUse(host: 0) == 2)
            let (deleted, output) = try cluster.run("DEL", host: 0, config: cluster.config("1.0.0", host: 0), netns: netns)
            #expect(deleted == 0, "\(output)")
            #expect(cluster.inUse(host: 0) == 0, "released although the netns is \(netns.isEmpty ? "empty" : "gone")")
        }
    }

    @Test func delWithTheDaemonDownQueuesTheReleaseAndTheDaemonReplaysIt() throws {
        try CNICluster.with(hosts: 1) { cluster in
            let host = cluster.hosts[0]
            let config = cluster.config("1.0.0", host: 0)
            let (code, result) = try cluster.run("ADD", host: 0, config: config)
            try #require(code == 0, "\(result)")
            host.daemon.kill()
            let (deleted, output) = try cluster.run("DEL", host: 0, config: config)
            #expect(deleted == 0, "DEL with the daemon down: \(output)")
            let links = try TestNamespace.ip("-n", cluster.pods[0], "-o", "link", "show")
            #expect(!links.contains("net1-"), "links removed from the attachment record: \(links)")
            let queue = host.stateDirectory + "/pending-release"
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: queue)) ?? []).count == 1, "one queued release")

            try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
                let restarted = try RunningDaemon(directory: host.directory, pluginsDirectory: plugins,
                                                  pools: CNICluster.pools(host: 0, nics: 2), namespace: host.namespace,
                                                  arguments: ["--node-name", "host-0", "--virtual-kinds", "veth"])
                defer { restarted.kill() }
                var remaining = -1
                for _ in 0..<100 {
                    remaining = cluster.inUse(host: 0)
                    if remaining == 0 { break }
                    Thread.sleep(forTimeInterval: 0.05)
                }
                #expect(remaining == 0, "replayed at start: \(cluster.status(host: 0))")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: queue)) ?? []).isEmpty, "queue drained")
                #expect(try cluster.run("DEL", host: 0, config: config).0 == 0, "DEL again after the replay")
            }
        }
    }
}
