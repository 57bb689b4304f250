import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The real `multi-nicd` binary in a namespace with veth NICs: unix socket without token, TCP with token, routes
/// in the kernel, and a SIGKILL + restart that keeps every acknowledged allocation.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"),
       .serialized)
struct DaemonProcessTests {
    /// Runs a command (inside the namespace when given) and returns stdout.
    @discardableResult
    static func run(_ arguments: [String], in namespace: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = (namespace.map { ["ip", "netns", "exec", $0] } ?? []) + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    static func startDaemon(namespace: String, directory: String, plugins: String) throws -> RunningDaemon {
        try RunningDaemon(directory: directory, pluginsDirectory: plugins, pools: DaemonAPITests.pools, namespace: namespace,
                          arguments: ["--node-name", "worker-1", "--port", "11000", "--bind", "127.0.0.1",
                                      "--token-file", directory + "/token", "--virtual-kinds", "veth"])
    }

    @Test func servesOverTheSocketAndTCPAndSurvivesSIGKILL() throws {
        try TestNamespace.with { name, _ in
            try TestNamespace.addVethNICs(name, [("eth1", "10.0.1.11/24"), ("eth2", "10.0.2.11/24")])
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-d-\(UUID())").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try PrivateFile.store(Array("t0ken-0123456789abcdef\n".utf8), at: directory + "/token")
            try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
                var daemon = try Self.startDaemon(namespace: name, directory: directory, plugins: plugins)
                defer { daemon.kill() }
                let socket = directory + "/d.sock"
                let attributes = try FileManager.default.attributesOfItem(atPath: socket)
                #expect((attributes[.posixPermissions] as? Int) == 0o600)
                let curlSocket = ["curl", "-s", "--unix-socket", socket, "-H", "Content-Type: application/json"]
                let allocated = try Self.run(curlSocket + ["-d", DaemonAPITests.allocate, "http://d/allocate"])
                #expect(allocated.contains(#""ip":"192.168.0.1""#) && allocated.contains(#""ip":"192.168.64.1""#))
                let tcp = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json"]
                #expect(try Self.run(tcp + ["-d", "{}", "http://127.0.0.1:11000/deallocate"], in: name) == "401")
                // Reads name pods and addresses: token too. Probes and metrics stay open.
                #expect(try Self.run(tcp + ["http://127.0.0.1:11000/status"], in: name) == "401")
                #expect(try Self.run(tcp + ["-H", "Authorization: Bearer t0ken-0123456789abcdef", "http://127.0.0.1:11000/status"],
                                     in: name) == "200")
                #expect(try Self.run(tcp + ["http://127.0.0.1:11000/healthz"], in: name) == "200")
                let l3 = #"{"name":"multi-nic-sample","subnet":"192.168.0.0/16","routes":[{"net":"192.168.1.0/26","via":"10.0.1.12","iface":"eth1"},{"net":"192.168.65.0/26","via":"10.0.2.12","iface":"eth2"}]}"#
                #expect(try Self.run(tcp + ["-H", "Authorization: Bearer t0ken-0123456789abcdef", "-d", l3, "http://127.0.0.1:11000/addl3"], in: name) == "200")
                let routes = try TestNamespace.ip("-n", name, "route", "show", "table", "100")
                #expect(routes.contains("192.168.1.0/26 via 10.0.1.12 dev eth1 proto 167"))
                #expect(routes.contains("192.168.65.0/26 via 10.0.2.12 dev eth2 proto 167"))
                #expect(try String(contentsOfFile: directory + "/rt_tables", encoding: .utf8) == "100\tmulti-nic-sample\n")

                daemon.kill()
                let clock = ContinuousClock()
                let restart = clock.now
                daemon = try Self.startDaemon(namespace: name, directory: directory, plugins: plugins)
                let again = try Self.run(curlSocket + ["-d", DaemonAPITests.allocate, "http://d/allocate"])
                let elapsed = clock.now - restart
                #expect(again == allocated, "the acknowledged allocation survived SIGKILL")
                #expect(elapsed < .seconds(5))
                print("multi-nicd restart to first answer: \(elapsed)")
            }
        }
    }
}
