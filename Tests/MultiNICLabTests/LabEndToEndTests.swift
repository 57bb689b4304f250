import Foundation
import MultiNICCore
@testable import MultiNICLab
import MultiNICTestSupport
import Testing

/// The README's main job, end to end: `multinicctl lab up` with the seed's network.yaml (3 hosts × 2 NICs, one pod
/// each), `concheck`, `lab break` / `heal`, `lab down` — through the real binaries, daemons, controller and CNI path.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/macvlan")
                    && FileManager.default.isExecutableFile(atPath: "/usr/bin/iperf3"),
                "needs root, iproute2, iperf3 and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct LabEndToEndTests {
    /// Runs multinicctl; returns (exit code, stdout + stderr).
    static func ctl(_ arguments: [String]) async throws -> (Int32, String) {
        try await CapturedRun.runDetached(try BuiltPlugins.executable("multinicctl"), arguments)
    }

    static var seedNetwork: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/network.yaml").path
    }

    /// Runs `body` with a fresh lab name, state directory and plugins, then takes the lab down (also when `body`
    /// throws) and checks that no process of the lab is left.
    static func withLab(_ prefix: String, _ body: (_ name: String, _ state: String, _ location: [String]) async throws -> Void) async throws {
        let name = "\(prefix)\(UInt16.random(in: 0...UInt16.max))"
        // Short: the DRA plugin's unix socket lives under it (107 bytes at most).
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("mnl-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        do {
            try await body(name, state, ["--name", name, "--state-dir", state, "--plugins-dir", plugins])
        } catch {
            _ = try? await ctl(["lab", "down", "--name", name, "--state-dir", state])
            throw error
        }
        let (down, downOutput) = try await ctl(["lab", "down", "--name", name, "--state-dir", state])
        #expect(down == 0, "\(downOutput)")
        let leftover = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains(state)
        }
        #expect(leftover.isEmpty, "no daemon, stand-in kubelet or prometheus of the lab left: \(leftover)")
    }

    /// Rows of the concheck table: FROM → (CONNECTED/TOTAL).
    static func rows(_ output: String) -> [(from: String, to: String, connected: String)] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count >= 3, fields[0].contains("-pod-"), fields[2].contains("/") else { return nil }
            return (fields[0], fields[1], fields[2])
        }
    }

    @Test func upConcheckBreakHealDownLeavesNothing() async throws {
        let name = "t\(UInt16.random(in: 0...UInt16.max))"
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-lab-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        do {
            let location = ["--name", name, "--state-dir", state, "--plugins-dir", plugins]
            let (up, upOutput) = try await Self.ctl(["lab", "up", "-f", Self.seedNetwork, "--hosts", "3", "--nics", "2"] + location)
            try #require(up == 0, "lab up failed:\n\(upOutput)")
            #expect(upOutput.contains("NAD        default/multi-nic-sample") && upOutput.contains("routes     Success"), "\(upOutput)")
            #expect(upOutput.contains("network multi-nic-sample: config Success, routes Success"), "\(upOutput)")
            for host in 0..<3 {
                let routes = try TestNamespace.ip("-n", "mnlab-\(name)-host-\(host)", "route", "show", "table", "all")
                let ours = routes.split(separator: "\n").filter { $0.contains("proto 167") }
                #expect(ours.count == 4, "every other host's podCIDR on both NICs in host-\(host)'s table:\n\(routes)")
            }

            let (checked, table) = try await Self.ctl(["concheck", "--lab", name, "--state-dir", state, "--duration", "1s", "--parallel", "3"])
            #expect(checked == 0 && table.contains("## Connection Check: multi-nic-sample"), "\(table)")
            let healthy = Self.rows(table)
            #expect(healthy.count == 6 && healthy.allSatisfy { $0.connected == "2/2" }, "\(table)")

            let (broke, brokeOutput) = try await Self.ctl(["lab", "break", "--host", "1"] + location)
            #expect(broke == 0 && brokeOutput.contains("routeStatus Failed") && brokeOutput.contains("\(name)-host-1"), "\(brokeOutput)")
            let (_, brokenTable) = try await Self.ctl(["concheck", "--lab", name, "--state-dir", state, "--duration", "1s", "--parallel", "3"])
            for row in Self.rows(brokenTable) {
                let touches = row.from.contains("host-1-") || row.to.contains("host-1-")
                #expect(row.connected == (touches ? "0/2" : "2/2"), "\(row)\n\(brokenTable)")
            }
            let (healed, healedOutput) = try await Self.ctl(["lab", "heal"] + location)
            #expect(healed == 0 && healedOutput.contains("routeStatus Success"), "\(healedOutput)")

            let (down, downOutput) = try await Self.ctl(["lab", "down", "--name", name, "--state-dir", state])
            #expect(down == 0, "\(downOutput)")
            let namespaces = try TestNamespace.ip("netns", "list")
            #expect(!namespaces.contains("mnlab-\(name)-"), "no namespace left: \(namespaces)")
            #expect(!FileManager.default.fileExists(atPath: state + "/" + name), "lab directory removed")
            let processes = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { Int32($0) }.filter { pid in
                let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
                return command.contains(state)
            }
            #expect(processes.isEmpty, "no process of the lab left: \(processes)")
        } catch {
            _ = try? await Self.ctl(["lab", "down", "--name", name, "--state-dir", state])
            throw error
        }
    }

    /// `lab up --prometheus` runs Debian's Prometheus on deploy/monitoring's rules; `lab break` fires
    /// MultiNICRoutesOutOfSync for the broken host (after the rule's `for: 1m`), and `lab heal` resolves it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
                       && FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool"),
                   "needs Debian's prometheus (CI installs it through .ci/install-deps --tests)"))
    func aBrokenNICFiresTheRouteAlert() async throws {
        let rules = URL(fileURLWithPath: Self.seedNetwork).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/monitoring/alerts.yaml").path
        try await Self.withLab("a") { _, _, location in
            let (up, upOutput) = try await Self.ctl(["lab", "up", "-f", Self.seedNetwork, "--hosts", "2", "--nics", "1",
                                                      "--pods-per-host", "0", "--prometheus", "--alert-rules", rules] + location)
            try #require(up == 0, "lab up failed:\n\(upOutput)")
            #expect(upOutput.contains("prometheus scraping 2 daemons"), "\(upOutput)")
            let (_, quiet) = try await Self.ctl(["lab", "alerts"] + location)
            #expect(quiet.contains("no alerts"), "\(quiet)")

            let (broke, brokeOutput) = try await Self.ctl(["lab", "break", "--host", "1"] + location)
            #expect(broke == 0 && brokeOutput.contains("routeStatus Failed"), "\(brokeOutput)")
            var alerts = ""
            let deadline = Date().addingTimeInterval(150)
            while Date() < deadline {
                alerts = try await Self.ctl(["lab", "alerts"] + location).1
                if alerts.contains("MultiNICRoutesOutOfSync firing") { break }
                try await Task.sleep(for: .seconds(3))
            }
            let firing = alerts.split(separator: "\n").filter { $0.hasPrefix("MultiNICRoutesOutOfSync firing") }
            #expect(firing.count == 1 && firing.allSatisfy { $0.contains("instance=172.31.0.11:11000") && $0.contains("network=multi-nic-sample") },
                    "the broken host's daemon only:\n\(alerts)")

            let (healed, healedOutput) = try await Self.ctl(["lab", "heal"] + location)
            #expect(healed == 0 && healedOutput.contains("routeStatus Success"), "\(healedOutput)")
            let resolveBy = Date().addingTimeInterval(30)
            repeat {
                alerts = try await Self.ctl(["lab", "alerts"] + location).1
                if alerts.contains("no alerts") { break }
                try await Task.sleep(for: .seconds(2))
            } while Date() < resolveBy
            #expect(alerts.contains("no alerts"), "resolved after heal:\n\(alerts)")
        }
    }

    /// `lab up --gpus-per-host 2`: every host gets a fake PCIe tree (GPU k behind NIC eth<k+1>'s switch) and a stand-in
    /// kubelet over gRPC; the daemon asks it which GPU each pod got, and the topology policy puts the NIC behind that
    /// GPU's switch first — through the real CNI binary. concheck reports the alignment.
    @Test func podsGetTheNICBehindTheirGPUFirst() async throws {
        try await Self.withLab("g") { name, state, location in
            let (up, upOutput) = try await Self.ctl(["lab", "up", "-f", Self.seedNetwork, "--hosts", "2", "--nics", "2",
                                                      "--pods-per-host", "2", "--gpus-per-host", "2"] + location)
            try #require(up == 0, "lab up failed:\n\(upOutput)")
            #expect(upOutput.contains("attach policy: topology"), "\(upOutput)")
            for host in 0..<2 {
                #expect(upOutput.contains("pod \(name)-host-\(host)-pod-0: net1-0 ") && upOutput.contains("(eth1), net1-1"), "\(upOutput)")
                let second = upOutput.split(separator: "\n").first { $0.contains("pod \(name)-host-\(host)-pod-1:") } ?? ""
                #expect(second.contains("(eth2), net1-1") && second.contains("GPU 0000:15:00.0"), "GPU 1 sits behind eth2's switch: \(second)")
            }
            let daemonLog = try String(contentsOfFile: state + "/" + name + "/host-0/multi-nicd.log", encoding: .utf8)
            #expect(daemonLog.contains("podresources gave 0000:15:00.0"), "the daemon logs the device set it used")
            let (checked, table) = try await Self.ctl(["concheck", "--lab", name, "--state-dir", state, "--duration", "1s", "--parallel", "4"])
            #expect(checked == 0 && table.contains("## GPU alignment: 4/4 pods' first NIC behind their GPU's PCIe switch"), "\(table)")
            #expect(Self.rows(table).count == 8 && Self.rows(table).allSatisfy { $0.connected == "2/2" }, "\(table)")
        }
    }

    /// DRA mode in the lab: the daemons publish their NICs to the lab's API server, the lab schedules a claim per pod
    /// (a GPU and a NIC on its PCIe root), prepares it through each daemon's plugin socket and attaches with Multus's
    /// deviceID; the claim's status names the pod interface, and concheck passes on the claimed NICs.
    @Test(.enabled(if: LabEndToEndTests.hasGRPC, "needs the full build (the DRA plugin's gRPC)"))
    func draModeAttachesTheClaimedNICs() async throws {
        try await Self.withLab("d") { name, state, location in
            let (up, upOutput) = try await Self.ctl(["lab", "up", "-f", Self.seedNetwork, "--hosts", "2", "--nics", "2",
                                                      "--pods-per-host", "2", "--gpus-per-host", "2", "--dra"] + location)
            try #require(up == 0, "lab up failed:\n\(upOutput)")
            #expect(upOutput.contains("ResourceSlices: 2/2 hosts published their NICs"), "\(upOutput)")
            for host in 0..<2 {
                let lines = upOutput.split(separator: "\n")
                let first = lines.first { $0.contains("pod \(name)-host-\(host)-pod-0:") } ?? ""
                let second = lines.first { $0.contains("pod \(name)-host-\(host)-pod-1:") } ?? ""
                #expect(first.contains("(eth1); GPU 0000:11:00.0") && second.contains("(eth2); GPU 0000:15:00.0"),
                        "each claim: a GPU and the NIC on its root, nothing else: \(first) / \(second)")
            }
            let claims = try #require(UnixHTTPClient(path: state + "/" + name + "/api.sock")?
                .request("GET", "/apis/resource.k8s.io/v1/resourceclaims")?.body)
            let items = try JSONValue.parse(claims).objectValue?["items"]?.arrayValue ?? []
            #expect(items.count == 4)
            for claim in items {
                let device = claim.objectValue?["status"]?.objectValue?["devices"]?.arrayValue?.first?.objectValue
                #expect(device?["networkData"]?.objectValue?["interfaceName"] == .string("net1-0"), "\(claim)")
            }
            let daemonLog = try String(contentsOfFile: state + "/" + name + "/host-0/multi-nicd.log", encoding: .utf8)
            #expect(daemonLog.contains("DRA kubelet plugin serving"), "\(daemonLog.suffix(2000))")
            let (checked, table) = try await Self.ctl(["concheck", "--lab", name, "--state-dir", state, "--duration", "1s", "--parallel", "4"])
            #expect(checked == 0 && table.contains("## GPU alignment: 4/4 pods' first NIC behind their GPU's PCIe switch"), "\(table)")
            #expect(Self.rows(table).count == 4 && Self.rows(table).allSatisfy { $0.connected == "1/1" },
                    "pods pair with those on the same NIC: \(table)")
        }
    }

    /// `lab chaos`: a short seeded schedule on a small lab passes (no violation), reports its faults and figures, and
    /// leaves no process, namespace, lease or queued release; then a lease nobody holds — planted behind the chaos
    /// run's back — is what the journal check reports.
    @Test func aShortChaosRunPassesAndItsChecksSeeALeak() async throws {
        try await Self.withLab("x") { name, state, location in
            let (up, upOutput) = try await Self.ctl(["lab", "up", "-f", Self.seedNetwork, "--hosts", "2", "--nics", "2"] + location)
            try #require(up == 0, "lab up failed:\n\(upOutput)")
            let (code, report) = try await Self.ctl(["lab", "chaos", "--duration", "15s", "--seed", "3", "--rate", "0.8"] + location)
            #expect(code == 0 && report.contains("## PASSED: no violation"), "\(report)")
            let faults = report.split(separator: "\n").first { $0.hasPrefix("FAULTS (") } ?? ""
            #expect(!faults.hasPrefix("FAULTS (0)") && report.contains("SIGKILL"), "the schedule of seed 3 injects faults: \(report)")
            #expect(report.contains("ping mesh:") && report.contains(", p99 "), "\(report)")

            let record = try LabRecord.load(directory: state + "/" + name)
            let body = #"{"pod":"ghost","namespace":"default","host":"\#(record.hosts[0].node)","def":"\#(record.network)","#
                + #""masters":["eth1"],"containerID":"ghost-c","podUID":"ghost-uid"}"#
            let planted = UnixHTTPClient(path: record.hosts[0].socket)?.request("POST", "/allocate", body: body)
            #expect(planted?.status == 200, "\(String(describing: planted))")
            let checks = ChaosChecks(record: record, state: ChurnState(podsFile: state + "/none.json"))
            let differences = checks.journalDifferences(host: 0) ?? []
            #expect(differences.contains { $0.contains("ghost-uid") && $0.contains("no live pod") }, "\(differences)")
            #expect(checks.leftovers().isEmpty, "the ghost is no chaos pod: \(checks.leftovers())")
        }
    }

    /// The ping mesh makes room in the kernel's one neighbour table (a 16-host soak overflowed it: 22 499 pings failed
    /// that a cluster would answer) and puts the old limits back.
    @Test func theNeighbourTableIsRaisedForAMeshAndRestored() throws {
        let before = (try #require(LabNeighbourTable.read("gc_thresh2")), try #require(LabNeighbourTable.read("gc_thresh3")))
        let entries = before.1 + 5000
        let (restore, note) = LabNeighbourTable.reserve(entries: entries)
        #expect(note != nil)
        #expect(try #require(LabNeighbourTable.read("gc_thresh3")) >= entries)
        #expect(try #require(LabNeighbourTable.read("gc_thresh2")) <= (try #require(LabNeighbourTable.read("gc_thresh3"))))
        restore()
        #expect(LabNeighbourTable.read("gc_thresh2") == before.0 && LabNeighbourTable.read("gc_thresh3") == before.1)
        let small = LabNeighbourTable.reserve(entries: 0)
        small.restore()
        #expect(small.note == nil || before.1 < 1024, "no raise when the table has room")
    }

    /// Two live pods with one address is the first invariant's violation.
    @Test func twoPodsWithOneAddressAreReported() {
        let state = ChurnState(podsFile: "/nonexistent/pods.json")
        state.state.withLock { state in
            for name in ["a", "b"] {
                state.live[name] = ChurnState.Pod(name: name, host: 0, node: "n", namespace: "ns-\(name)", containerID: name,
                                                  addresses: ["192.168.0.7"])
            }
        }
        let checks = ChaosChecks(record: LabRecord(name: "t", directory: "/nonexistent"), state: state)
        #expect(checks.duplicates() == ["address 192.168.0.7 held by pods a and b"])
    }

    /// Whether this build has the kubelet's gRPC APIs (not the main job's quick build).
    static var hasGRPC: Bool { ProcessInfo.processInfo.environment["MULTINIC_WITHOUT_GRPC"] != "1" }
}
