import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
@testable import MultiNICKube
import MultiNICKubeFake
import Synchronization
import MultiNICTestSupport
import Testing

/// The in-cluster connection check against the in-test API server, with the test as kubelet and Multus: server pods
/// get addresses on loopback (127.0.<host>.<nic>) and real iperf3 servers; client pods really run the probe against
/// them. Host b's second NIC has no server (1/2), host c never comes up (0/2 both ways).
@Suite(.ownThread, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/iperf3"), "needs iperf3 (Debian's iperf3)"),
       .timeLimit(.minutes(3)))
struct ClusterConcheckTests {
    static let hosts = ["host-a", "host-b", "host-c"]

    func cidr() -> CIDR {
        let entries = (0..<2).map { nic in
            CIDREntry(netAddress: "192.168.\(nic * 64).0/18", interfaceIndex: nic, vlanCIDR: "192.168.\(nic * 64).0/18",
                      hosts: Self.hosts.enumerated().map { index, host in
                          HostCIDR(hostIndex: index, hostName: host, interfaceName: "eth\(nic + 1)", hostIP: "10.0.\(nic).\(index + 1)",
                                   podCIDR: "192.168.\(nic * 64 + index).0/24")
                      })
        }
        return CIDR(metadata: ObjectMeta(name: "net"), spec: CIDRSpec(
            config: CIDRConfig(name: "net", type: "macvlan", subnet: "192.168.0.0/16", masterNets: ["10.0.0.0/24", "10.0.1.0/24"],
                               hostBlock: 8, interfaceBlock: 2),
            cidr: entries))
    }

    @Test func serversThenOneClientPerHostThenTheTable() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        _ = try await client.create(cidr())
        let setup = server.log.count
        let kubelet = FakeKubelet(server: server)
        let playing = Task { await kubelet.run() }
        defer {
            playing.cancel()
            kubelet.stopServers()
        }
        var options = ClusterConnectionCheck.Options()
        options.seconds = 1
        options.readyTimeout = .seconds(4)
        options.clientGrace = .seconds(30)
        options.pollInterval = .milliseconds(50)
        options.image = "example/concheck:1"
        let results = try await ClusterConnectionCheck(client: client, options: options).run(network: "net")

        let rows = Dictionary(uniqueKeysWithValues: results.map { ("\($0.from)>\($0.to)", $0) })
        #expect(rows.count == 6, "every ordered pair of hosts")
        #expect(rows["host-b>host-a"]?.connected == 2 && rows["host-b>host-a"]?.addresses == ["127.0.1.1", "127.0.1.2"])
        #expect(rows["host-a>host-b"]?.connected == 1, "b's second NIC has no server: \(String(describing: rows["host-a>host-b"]))")
        #expect(rows["host-a>host-b"]?.bandwidths.first??.isFinite == true)
        for pair in ["host-a>host-c", "host-b>host-c", "host-c>host-a", "host-c>host-b"] {
            #expect(rows[pair]?.connected == 0 && rows[pair]?.addresses.count == 2, "\(pair): \(String(describing: rows[pair]))")
        }
        let table = ConnectionReport.table(network: "net", results: results)
        let lines = table.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(table.contains("## Connection Check: net") && lines.contains { $0.hasPrefix("host-b host-a 2/2 [127.0.1.1 127.0.1.2] [ ") },
                "\(table)")

        // What the pods looked like, and that none is left.
        let created = kubelet.seen()
        #expect(created.count == 6, "3 servers and 3 clients: \(created.map(\.name))")
        #expect(created.allSatisfy { $0.annotation == "net" && $0.label.hasPrefix("net-") && $0.image == "example/concheck:1" })
        #expect(created.first { $0.name == "net-host-a-client" }?.command.prefix(2) == ["multinicctl", "concheck-probe"])
        #expect(server.objects("api/v1/pods").isEmpty, "the check deletes its pods")

        // Every request is allowed by the Job's roles (pods in its own namespace only), and every rule is used.
        let requests = Array(server.log.all.dropFirst(setup))
        let (missing, unused) = try RBACCheck.compare(requests, role: "connection-check/concheck.yaml")
        #expect(missing.isEmpty, "connection-check/concheck.yaml lacks: \(missing)")
        // Listing the networks is the Job's (it names none; ConcheckCommand lists them), not this library call's.
        #expect(unused == ["list net.cogadvisor.io/multinicnetworks (cluster)"], "connection-check/concheck.yaml grants what the check never uses: \(unused)")
        #expect(Set(requests.compactMap(RBACCheck.permission)).contains(RBACCheck.Permission(group: "", resource: "pods/log", verb: "get")))
    }

    @Test func namesKeepTheTailAndAddressesComeFromNetworkStatus() {
        let long = ConcheckPods.name(network: "a-very-long-network-name-for-the-check", host: "gpu-dallas-d5l8c-worker-2-47lzt",
                                     role: "server")
        #expect(long.count <= 60 && long.hasSuffix("worker-2-47lzt-server") && !long.hasPrefix("-"))
        let label = ConcheckPods.labelValue(network: String(repeating: "n", count: 60) + "-x", role: "client")
        #expect(label.count <= 63 && label.hasSuffix("-x-client") && label.first?.isLetter == true)
        let status = #"[{"name":"cbr0","interface":"eth0","ips":["10.244.1.5"],"default":true},"#
            + #"{"name":"default/net","interface":"net1-0","ips":["192.168.0.2"]},{"name":"default/net","interface":"net1-1","ips":["192.168.64.2"]}]"#
        let pod: JSONValue = .object(["metadata": .object(["annotations": .object(["k8s.v1.cni.cncf.io/network-status": .string(status)])])])
        #expect(ConcheckPods.addresses(fromPod: pod, network: "net") == ["192.168.0.2", "192.168.64.2"])
        #expect(ConcheckPods.addresses(fromPod: pod, network: "other").isEmpty)
        let log = "noise\nRESULT 192.168.0.2:5201 8800000000\nRESULT [fd00::2]:5202 -\n"
        let parsed = ConcheckPods.results(fromLog: log)
        #expect(parsed["192.168.0.2:5201"] == .some(8.8e9) && parsed["[fd00::2]:5202"] == .some(nil))
    }
}

/// Plays kubelet and Multus for the check's pods: servers on hosts a and b get loopback addresses and real iperf3
/// servers (none for b's second NIC); clients run the probe and exit; everything on host c stays Pending (servers) or
/// fails (clients).
final class FakeKubelet: Sendable {
    struct SeenPod: Sendable {
        var name: String
        var label: String
        var annotation: String
        var image: String
        var command: [String]
    }

    let server: FakeAPIServer
    private let handled = Mutex<[SeenPod]>([])
    private let iperfServers = Mutex<[Process]>([])

    init(server: FakeAPIServer) {
        self.server = server
    }

    func seen() -> [SeenPod] { handled.withLock { $0 } }

    /// SIGKILL: a child started from a Swift-concurrency thread inherits that thread's blocked signals (SIGTERM among
    /// them), so `terminate()` would not end it.
    func stopServers() {
        for process in iperfServers.withLock({ $0 }) where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func run() async {
        while !Task.isCancelled {
            for pod in server.objects("api/v1/pods") {
                guard let metadata = pod.objectValue?["metadata"]?.objectValue, let name = metadata["name"]?.stringValue,
                      !handled.withLock({ $0.contains { $0.name == name } }) else { continue }
                let container = pod.objectValue?["spec"]?.objectValue?["containers"]?.arrayValue?.first?.objectValue ?? [:]
                let seen = SeenPod(name: name, label: metadata["labels"]?.objectValue?[ConcheckPods.label]?.stringValue ?? "",
                                   annotation: metadata["annotations"]?.objectValue?["k8s.v1.cni.cncf.io/networks"]?.stringValue ?? "",
                                   image: container["image"]?.stringValue ?? "",
                                   command: container["command"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                handled.withLock { $0.append(seen) }
                let host = pod.objectValue?["spec"]?.objectValue?["nodeName"]?.stringValue ?? ""
                let hostNumber = (ClusterConcheckTests.hosts.firstIndex(of: host) ?? 9) + 1
                if name.hasSuffix("-server") {
                    try? await serve(name, hostNumber: hostNumber)
                } else {
                    await runClient(name, command: seen.command, onBrokenHost: hostNumber == 3)
                }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    func setPhase(_ name: String, _ phase: String) {
        server.modify("/api/v1/namespaces/default/pods/\(name)") { $0["status"] = .object(["phase": .string(phase)]) }
    }

    func serve(_ name: String, hostNumber: Int) async throws {
        guard hostNumber < 3 else { return }  // host c: never scheduled
        let addresses = ["127.0.\(hostNumber).1", "127.0.\(hostNumber).2"]
        for (nic, address) in addresses.enumerated() where !(hostNumber == 2 && nic == 1) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/iperf3")
            process.arguments = ["-s", "-B", address, "-p", String(ConcheckPods.port(nic: nic))]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            iperfServers.withLock { $0.append(process) }
        }
        try await Task.sleep(for: .milliseconds(300))  // let the servers listen
        let status = JSONValue.array(addresses.enumerated().map { nic, address in
            .object(["name": .string("default/net"), "interface": .string("net1-\(nic)"), "ips": .array([.string(address)])])
        }).description
        server.modify("/api/v1/namespaces/default/pods/\(name)") { pod in
            var metadata = pod["metadata"]?.objectValue ?? [:]
            var annotations = metadata["annotations"]?.objectValue ?? [:]
            annotations["k8s.v1.cni.cncf.io/network-status"] = .string(status)
            metadata["annotations"] = .object(annotations)
            pod["metadata"] = .object(metadata)
        }
        setPhase(name, "Running")
    }

    func runClient(_ name: String, command: [String], onBrokenHost: Bool) async {
        guard !onBrokenHost else { return setPhase(name, "Failed") }
        setPhase(name, "Running")
        // `multinicctl concheck-probe --seconds N targets…`, run here as the container would.
        let seconds = command.firstIndex(of: "--seconds").flatMap { Int(command[$0 + 1]) } ?? 1
        let targets = Array(command.drop { $0 != "--seconds" }.dropFirst(2))
        let lines = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: ConcheckProbe.run(targets: targets, seconds: seconds)) }.start()
        }
        server.setLog(namespace: "default", pod: name, lines.joined(separator: "\n") + "\n")
        setPhase(name, "Succeeded")
    }
}
