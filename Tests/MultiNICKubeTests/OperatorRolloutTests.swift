import Foundation
import MultiNICCore
import MultiNICHTTP
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// A rolling update of the operator Deployment as the Deployment controller runs it with maxSurge 1 and
/// maxUnavailable 0: the new replica starts beside the leader and must become Ready before the old one is stopped;
/// then it takes the Lease over.
@Suite(.ownThread) struct OperatorRolloutTests {
    /// One `multi-nic-operator` process with its own pod name (its leader identity) and probe port.
    final class Replica: @unchecked Sendable {
        let process = Process()
        let health = Int.random(in: 30000...32000)
        let name: String

        init(name: String, kubeconfig: String, plugins: String, log: String) throws {
            self.name = name
            process.executableURL = try BuiltPlugins.executable("multi-nic-operator")
            process.arguments = ["--kubeconfig", kubeconfig, "--leader-elect", "--plugins-dir", plugins,
                                 "--health-port", String(health), "--metrics-port", String(health + 1),
                                 "--daemon-auth", "token-file", "--daemon-token-file", "/nonexistent", "--no-daemon-tls"]
            process.environment = ProcessInfo.processInfo.environment.merging(["POD_NAME": name]) { _, new in new }
            process.standardOutput = FileHandle.nullDevice
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
        }

        /// `/readyz`: status and body, or `nil` while nothing listens.
        func readiness() -> (status: Int, body: String)? {
            guard let answer = try? CurlTransport.perform(HTTPRequest(endpoint: .url("http://127.0.0.1:\(health)"), method: "GET",
                                                                      path: "/readyz")) else { return nil }
            return (answer.status, String(decoding: answer.body, as: UTF8.self))
        }

        func stop(signal: Int32 = SIGKILL) {
            guard process.isRunning else { return }
            kill(process.processIdentifier, signal)
            process.waitUntilExit()
        }
    }

    @Test func aNewReplicaIsReadyBesideTheLeaderAndTakesOverWhenTheOldOneStops() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-rollout-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: "ops")
        _ = try await client.create(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec(daemon: DaemonSpec(image: "example/multi-nicd:1"))))
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }

        func holder() async -> String? { try? await client.get(LeaseSpec.self, name: "multi-nic-cni-operator", namespace: "ops").spec.holderIdentity }
        func wait(_ what: String, _ done: () async -> Bool) async throws {
            for _ in 0..<300 {
                if await done() { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            let logs = ["old", "new"].map { (try? String(contentsOfFile: directory + "/\($0).log", encoding: .utf8))?.suffix(800) ?? "" }
            Issue.record("timed out waiting for \(what): lease holder \(await holder() ?? "none"); logs \(logs)")
        }

        let old = try Replica(name: "operator-old", kubeconfig: directory + "/kubeconfig", plugins: plugins, log: directory + "/old.log")
        defer { old.stop() }
        // "leading", not just 200: a replica that holds the Lease but has not started leading yet is a Ready standby.
        try await wait("the old replica leading and ready") { await holder() == "operator-old" && old.readiness()?.body == "leading\n" }
        #expect(old.readiness()?.body == "leading\n")

        // The surge replica: the Deployment controller stops the old one only once this one is Ready.
        let new = try Replica(name: "operator-new", kubeconfig: directory + "/kubeconfig", plugins: plugins, log: directory + "/new.log")
        defer { new.stop() }
        try await wait("the new replica answering its probe") { new.readiness() != nil }
        let standby = try #require(new.readiness())
        #expect(standby.status == 200 && standby.body == "standby\n", "a standby replica is Ready, or the rollout waits forever")
        #expect(await holder() == "operator-old", "the leader is unchanged")

        old.stop(signal: SIGTERM)
        try await wait("the new replica leading") { await holder() == "operator-new" && new.readiness()?.body == "leading\n" }
    }
}
