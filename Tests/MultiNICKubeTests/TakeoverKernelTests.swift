import Foundation
import MultiNICController
import MultiNICCore
import MultiNICDaemonClient
import MultiNICKube
import MultiNICKubeFake
import MultiNICOperator
import MultiNICRender
import MultiNICTakeover
import MultiNICTestSupport
import Testing

/// The takeover on real kernels: two hosts (network namespaces, veth NICs on a bridged fabric) programmed the
/// original's way — its route table `net` (id 100 in `rt_tables`) with routes added without a protocol and its rule
/// `from 192.168.0.0/16 lookup 100`, and a live pod per host on macvlan interfaces holding the addresses of the
/// original's IPPools. MultiNIC's daemons and controller run beside it; `takeover apply` (crashing once after the
/// copy, then resumed) hands the network over. Throughout, every old pod pings the other on every NIC; the route
/// tables are watched with `ip monitor route`.
@Suite(.ownThread, .serialized,
       .enabled(if: CNIRun.available, "needs root, iproute2, iputils-ping and containernetworking-plugins (CI installs them and runs as root)"))
struct TakeoverKernelTests {
    /// The daemons of the test's hosts, over their unix sockets.
    struct SocketFleet: DaemonClientFleet {
        let sockets: [String: String]
        func nodes() async -> [String] { sockets.keys.sorted() }
        func client(for node: String) async throws(FleetError) -> DaemonClient {
            guard let socket = sockets[node] else { throw .unreachable(node: node, reason: "not a test host") }
            return DaemonClient(socketPath: socket, timeoutSeconds: 10)
        }
    }

    /// A process running in the background with its output in a file. (Signals other than SIGKILL may be blocked in
    /// the spawning thread and so in the child: pings end by their own deadline, monitors are killed, unbuffered.)
    final class Background {
        let process = Process()
        let output: String

        init(_ arguments: [String], output: String) throws {
            self.output = output
            FileManager.default.createFile(atPath: output, contents: nil)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/stdbuf")
            process.arguments = ["-oL", "/usr/sbin/ip"] + arguments
            process.standardOutput = FileHandle(forWritingAtPath: output)
            process.standardError = FileHandle.nullDevice
            try process.run()
        }

        /// Waits for the end (`kill`: SIGKILL first) without holding a thread, then the output.
        func finish(kill: Bool) async throws -> String {
            if kill && process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            while process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        }

        deinit {
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        }
    }

    /// How long the old pods ping (from before the takeover to after the new pods attached).
    static let pingSeconds = 25

    /// Old pod `old-h`'s address on NIC k (the original's first address of host h's block).
    static func oldAddress(host: Int, nic: Int) -> String { "192.168.\(64 * nic).\(64 * host + 1)" }

    /// Runs a CNI binary in host `host`'s namespace as Multus would; (exit code, stdout).
    static func cni(_ command: String, hostNamespace: String, directory: String, config: String, container: String,
                    netns: String, pod: String) throws -> (Int32, String) {
        try CNIRun.run(in: hostNamespace, executable: try BuiltPlugins.executable("multi-nic").path, environment: [
            "CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": netns, "CNI_IFNAME": "net1", "CNI_PATH": "/usr/lib/cni",
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod)", "MULTINIC_CNI_LOG": directory + "/cni.log",
            "MULTINIC_SOCKET": directory + "/d.sock", "MULTINIC_CNI_STATE_DIR": directory + "/state/cni"], config: config)
    }

    static func waitFor(_ what: String, seconds: Int = 60, _ done: () async throws -> Bool) async throws {
        for _ in 0..<(seconds * 10) {
            if try await done() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
        throw PluginTestFailure("timed out waiting for \(what)")
    }

    @Test func livePodsKeepPingingOnEveryNICWhileTheNetworkIsHandedOver() async throws {
        try await TestNamespace.withMany(7) { names in
            let (fabric, hostNamespaces, old, new) = (names[0], [names[1], names[2]], [names[3], names[4]], [names[5], names[6]])
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-takeover-kernel-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            // The hosts, and what the original's daemon and CNI left on them.
            for (host, namespace) in hostNamespaces.enumerated() {
                for nic in 0..<2 {
                    try TestNamespace.addBridgedNIC(namespace, nic: "eth\(nic + 1)", address: "10.0.\(nic + 1).\(11 + host)/24",
                                                    fabric: fabric, bridge: "br\(nic + 1)")
                }
                let other = 1 - host
                for nic in 0..<2 {
                    try TestNamespace.ip("-n", namespace, "route", "add", "192.168.\(64 * nic).\(64 * other)/26",
                                         "via", "10.0.\(nic + 1).\(11 + other)", "dev", "eth\(nic + 1)", "table", "100")
                    try TestNamespace.ip("-n", namespace, "link", "add", "net1-\(nic)", "link", "eth\(nic + 1)", "type", "macvlan", "mode", "bridge")
                    try TestNamespace.ip("-n", namespace, "link", "set", "net1-\(nic)", "netns", old[host])
                    try TestNamespace.ip("-n", old[host], "addr", "add", Self.oldAddress(host: host, nic: nic) + "/18", "dev", "net1-\(nic)")
                    try TestNamespace.ip("-n", old[host], "link", "set", "net1-\(nic)", "up")
                }
                try TestNamespace.ip("-n", namespace, "rule", "add", "from", "192.168.0.0/16", "table", "100")
                try FileManager.default.createDirectory(atPath: root + "/host-\(host)", withIntermediateDirectories: true)
                try "100\tnet\n".write(toFile: root + "/host-\(host)/rt_tables", atomically: true, encoding: .utf8)
            }
            let tablesBefore = try hostNamespaces.map { try TestNamespace.ip("-n", $0, "route", "show", "table", "100") }
            #expect(tablesBefore.allSatisfy { $0.split(separator: "\n").count == 2 && !$0.contains("proto") }, "\(tablesBefore)")

            // The cluster: the original's objects; MultiNIC's daemons (no pools yet) and controller, as after
            // `kubectl apply -k deploy`.
            let server = try await FakeAPIServer()
            defer { server.stop() }
            let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
            try await TakeoverReaderTests.create(try TakeoverReaderTests.fixture("kernel"), on: client)
            let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
            defer { try? FileManager.default.removeItem(atPath: plugins) }
            do {
                var daemons: [RunningDaemon] = []
                defer { daemons.forEach { $0.kill() } }
                for (host, namespace) in hostNamespaces.enumerated() {
                    daemons.append(try RunningDaemon(directory: root + "/host-\(host)", pluginsDirectory: plugins, pools: "[]", namespace: namespace,
                                                     arguments: ["--node-name", "host-\(host)", "--virtual-kinds", "veth"]))
                }
                let sockets = Dictionary(uniqueKeysWithValues: daemons.enumerated().map { ("host-\($0.offset)", $0.element.socketPath) })
                let controller = MultiNICController(store: KubernetesStore(client: client, cached: KubernetesStore.controllerKinds),
                                                    fleet: SocketFleet(sockets: sockets), renderer: NetworkRenderer(registry: try BuiltPlugins.registry()),
                                                    hostPeriod: .milliseconds(500))
                let running = Task { await controller.run(workers: 2) }
                defer { running.cancel() }
                for host in 0..<2 { await controller.daemonStarted("host-\(host)") }

                // Every old pod pings the other on every NIC from now until the handover is done; the route
                // tables are watched.
                var pings: [(String, Background)] = []
                for host in 0..<2 {
                    for nic in 0..<2 {
                        let target = Self.oldAddress(host: 1 - host, nic: nic)
                        pings.append(("old-\(host) net1-\(nic) → \(target)", try Background(
                            ["netns", "exec", old[host], "/usr/bin/ping", "-n", "-i", "0.05", "-w", String(Self.pingSeconds), "-I", "net1-\(nic)", target],
                            output: root + "/ping-\(host)-\(nic).txt")))
                    }
                }
                let monitors = try hostNamespaces.enumerated().map { host, namespace in
                    try Background(["-n", namespace, "monitor", "route"], output: root + "/monitor-\(host).txt")
                }
                try await Task.sleep(for: .seconds(1))

                // The takeover: a crash after the copy, then the resumed run.
                let runner = TakeoverRunner(client: client, namespace: "multi-nic-cni-operator")
                _ = try await runner.apply(stopAfter: .objectsCopied)
                let record = try await runner.apply()
                #expect(record.steps == TakeoverRecord.Step.allCases)

                // MultiNIC owns the network: each daemon holds the old pod's addresses and has adopted the table.
                try await Self.waitFor("the pools pushed with the old pods' addresses adopted") {
                    let statuses = daemons.map { UnixHTTPClient(path: $0.socketPath)?.request("GET", "/status")?.body ?? "" }
                    return statuses.allSatisfy { status in
                        let pools = (try? JSONDecoder().decode(DaemonStatus.self, from: Data(status.utf8)))?.pools ?? []
                        return pools.count == 2 && pools.allSatisfy { $0.inUse == 1 }
                    }
                }
                try await Self.waitFor("the original's routes adopted on both hosts") {
                    try hostNamespaces.allSatisfy { namespace in
                        let table = try TestNamespace.ip("-n", namespace, "route", "show", "table", "100").split(separator: "\n")
                        return table.count == 2 && table.allSatisfy { $0.contains("proto 167") }
                    }
                }
                try await Self.waitFor("the network Ready with MultiNIC's routes") {
                    let network = try await client.get(MultiNicNetworkSpec.self, name: "net", namespace: nil)
                    return network.status?.conditions?.first { $0.type == NetworkConditions.ready }?.status == .true
                }

                // A new pod on each host through MultiNIC's NAD: never an old pod's address; it reaches the old pods.
                let nad = try await client.get(NetworkAttachmentDefinitionSpec.self, name: "net", namespace: "default")
                #expect(nad.metadata.ownerReferences?.first?.apiVersion == MultiNICAPI.version, "the NAD is MultiNIC's now: \(nad.metadata)")
                let oldAddresses = Set((0..<2).flatMap { host in (0..<2).map { Self.oldAddress(host: host, nic: $0) } })
                for host in 0..<2 {
                    let (code, result) = try Self.cni("ADD", hostNamespace: hostNamespaces[host], directory: root + "/host-\(host)",
                                                      config: nad.spec.config, container: "new-\(host)", netns: "/var/run/netns/\(new[host])",
                                                      pod: "new-\(host)")
                    try #require(code == 0, "ADD of new-\(host): \(result)")
                    let addresses = (try JSONValue.parse(result).objectValue?["ips"]?.arrayValue ?? [])
                        .compactMap { $0.objectValue?["address"]?.stringValue?.split(separator: "/").first.map(String.init) }
                    #expect(addresses.count == 2 && oldAddresses.isDisjoint(with: addresses), "new-\(host) got \(addresses)")
                }
                for nic in 0..<2 {
                    let ping = try TestNamespace.ip("netns", "exec", new[0], "/usr/bin/ping", "-c", "1", "-W", "2", "-I", "net1-\(nic)",
                                                    Self.oldAddress(host: 1, nic: nic))
                    #expect(ping.contains("1 received"), "new-0 reaches old-1 on NIC \(nic)")
                }
                try await Task.sleep(for: .seconds(1))

                // Through all of it: at most one packet lost per NIC, and no route of the table deleted.
                for (name, ping) in pings {
                    let output = try await ping.finish(kill: false)
                    let numbers = output.split(separator: "\n").first { $0.contains("packets transmitted") }?
                        .split(separator: " ").compactMap { Int($0) } ?? []
                    #expect(numbers.count >= 2 && numbers[0] >= 100 && numbers[0] - numbers[1] <= 1, "\(name): \(output.suffix(300))")
                }
                for (host, monitor) in monitors.enumerated() {
                    let events = try await monitor.finish(kill: true).split(separator: "\n")
                    let deleted = events.filter { $0.hasPrefix("Deleted") && $0.contains("table 100") }
                    #expect(deleted.isEmpty, "host-\(host): \(deleted)")
                }

                // The old pod's DEL comes with the original's NetConf (Multus cached it): its addresses are released
                // and its interfaces removed.
                let original = try #require(try TakeoverReaderTests.fixture("kernel").compactMap { object -> String? in
                    guard object.objectValue?["kind"]?.stringValue == NetworkAttachmentDefinitionSpec.kind else { return nil }
                    return object.objectValue?["spec"]?.objectValue?["config"]?.stringValue
                }.first)
                // A CHECK of old-1 (the original's NetConf at 0.4.0, the version CHECK needs; its cached result as
                // prevResult): the interfaces are there and the daemon holds their addresses, which it now keys by
                // the container.
                var checked = try #require(try JSONValue.parse(original).objectValue)
                checked["cniVersion"] = .string("0.4.0")
                checked["prevResult"] = try JSONValue.parse("""
                    {"cniVersion":"0.4.0","interfaces":[{"name":"net1-0","sandbox":"/var/run/netns/\(old[1])"},{"name":"net1-1","sandbox":"/var/run/netns/\(old[1])"}],
                     "ips":[{"version":"4","address":"\(Self.oldAddress(host: 1, nic: 0))/18","interface":0},
                            {"version":"4","address":"\(Self.oldAddress(host: 1, nic: 1))/18","interface":1}]}
                    """)
                let check = try Self.cni("CHECK", hostNamespace: hostNamespaces[1], directory: root + "/host-1",
                                         config: JSONValue.object(checked).description, container: "5e6f7a8b",
                                         netns: "/var/run/netns/\(old[1])", pod: "old-1")
                #expect(check.0 == 0, "CHECK of old-1: \(check.1)")
                let snapshot = try #require(UnixHTTPClient(path: daemons[1].socketPath)?.request("GET", DaemonAPI.podLeasesPath)?.body)
                let holders = try JSONDecoder().decode(PodLeaseSnapshot.self, from: Data(snapshot.utf8)).pods
                #expect(holders.first { $0.name == "old-1" }.map { $0.podKeyed == nil && $0.addresses.count == 2 } == true, "\(holders)")

                let (code, result) = try Self.cni("DEL", hostNamespace: hostNamespaces[0], directory: root + "/host-0", config: original,
                                                  container: "0a1b2c3d", netns: "/var/run/netns/\(old[0])", pod: "old-0")
                #expect(code == 0, "DEL of old-0: \(result)")
                #expect(!(try TestNamespace.ip("-n", old[0], "link", "show")).contains("net1-"), "old-0's interfaces are gone")
                let status = UnixHTTPClient(path: daemons[0].socketPath)?.request("GET", "/status")?.body ?? ""
                let pools = try JSONDecoder().decode(DaemonStatus.self, from: Data(status.utf8)).pools
                #expect(pools.map(\.inUse) == [1, 1], "host-0 holds only new-0's addresses: \(status)")

                for host in 0..<2 {
                    _ = try Self.cni("DEL", hostNamespace: hostNamespaces[host], directory: root + "/host-\(host)", config: nad.spec.config,
                                     container: "new-\(host)", netns: "/var/run/netns/\(new[host])", pod: "new-\(host)")
                }
            }
        }
    }
}
