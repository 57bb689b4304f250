import Foundation
@testable import MultiNICCNI
import MultiNICCore
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// Pieces of the CNI binaries that need neither root nor a daemon.
@Suite(.ownThread) struct CNIStateTests {
    func withStore(_ body: (AttachmentStore, String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-cni-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try body(AttachmentStore(directory: directory), directory)
    }

    @Test func attachmentRecordsRoundTripPerNetworkAndAreRemoved() throws {
        try withStore { store, directory in
            let nic = AttachedNIC(master: "eth1", ifName: "net1-0", address: IPNetwork("192.168.0.1/18"), delegate: .object(["type": .string("macvlan")]))
            let first = CachedAttachment(network: "net", containerID: "c1", ifName: "net1", nics: [nic])
            try store.save(first)
            try store.save(CachedAttachment(network: "net", containerID: "c2", ifName: "net1", nics: []))
            // A name that is not a SafeName never becomes a file name.
            #expect(throws: CNIError.self) { try store.save(CachedAttachment(network: "net", containerID: "c2/../x", ifName: "net1", nics: [])) }
            try store.save(CachedAttachment(network: "net-other", containerID: "c1", ifName: "net1", nics: []))
            #expect(store.load(network: "net", containerID: "c1", ifName: "net1") == first)
            #expect(store.load(network: "net", containerID: "c1", ifName: "net2") == nil)
            #expect(Set(store.attachments(network: "net").map(\.containerID)) == ["c1", "c2"])
            let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/attachments")
            #expect(names.count == 3 && names.allSatisfy { !$0.contains("/") } && !names.contains { $0.hasSuffix(".tmp") })
            store.remove(network: "net", containerID: "c1", ifName: "net1")
            store.remove(network: "net", containerID: "c1", ifName: "net1")
            #expect(store.load(network: "net", containerID: "c1", ifName: "net1") == nil)
        }
    }

    @Test func queuedReleasesAreDetachRequestsTheDaemonCanRead() throws {
        try withStore { store, directory in
            let request = DetachRequest(containerID: "c1", network: "net", ifName: "net1", cniVersion: "1.0.0", plugin: [:])
            try store.queueRelease(request)
            try store.queueRelease(request)
            let queued = store.pendingReleases()
            #expect(queued.count == 1, "one file per attachment: \(queued)")
            let data = try Data(contentsOf: URL(fileURLWithPath: PendingReleases.directory(inCNIState: directory) + "/" + queued[0]))
            #expect(try JSONDecoder().decode(DetachRequest.self, from: data) == request)
        }
    }

    @Test func safeNamesAreOnePathComponent() {
        #expect(PendingReleases.safeName("a/b c:ü") == "a_b_c__")
        #expect(PendingReleases.safeName("net-1.x") == "net-1.x")
    }

    @Test func perNICNamesAreTheInterfaceWithANumber() {
        #expect(LinuxInterfaceName.isPerNIC("net1-0", of: "net1"))
        #expect(LinuxInterfaceName.isPerNIC("net1-17", of: "net1"))
        #expect(!LinuxInterfaceName.isPerNIC("net1-", of: "net1"))
        #expect(!LinuxInterfaceName.isPerNIC("net1-x", of: "net1"))
        #expect(!LinuxInterfaceName.isPerNIC("net10-0", of: "net1"))
        #expect(!LinuxInterfaceName.isPerNIC("net1", of: "net1"))
    }

    @Test func checkProblemsNameTheInterfaceAndTheAddress() throws {
        let address = try #require(IPNetwork("192.168.0.1/18"))
        let expected = CNIResult(interfaces: [.init(name: "net1-0", sandbox: "/var/run/netns/p"), .init(name: "host-side"),
                                              .init(name: "net1-1", sandbox: "/var/run/netns/p")],
                                 ips: [.init(address: address, interface: 0)])
        let up = LinkInfo(index: 5, name: "net1-0", isUp: true, hasCarrier: true, mtu: 1500, kind: "macvlan")
        let other = LinkInfo(index: 6, name: "net1-1", isUp: false, hasCarrier: false, mtu: 1500, kind: "macvlan")
        #expect(PodNamespace.problems(expected: expected, links: [up, other], addresses: [AddressInfo(linkIndex: 5, address: address)])
            == ["net1-1 is down"])
        #expect(PodNamespace.problems(expected: expected, links: [up], addresses: [AddressInfo(linkIndex: 6, address: address)])
            == ["net1-0 lacks 192.168.0.1/18", "net1-1 is missing"])
    }

    @Test func versionsCompareNumerically() {
        #expect(CNIVersion.atLeast("1.1.0", "1.1.0") && CNIVersion.atLeast("1.10.0", "1.9.0") && !CNIVersion.atLeast("0.4.0", "1.0.0"))
        #expect(CNIVersion.hasCheck("0.4.0") && !CNIVersion.hasCheck("0.3.1"))
        #expect(CNIVersion.hasGC("1.1.0") && !CNIVersion.hasGC("1.0.0"))
    }

    @Test func theLogLineNamesTheCallAndTheError() {
        let log = InvocationLog(binary: "multi-nic", defaultPath: "/nonexistent/log")
        let environment = CNIEnvironment(variables: ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "net1"],
                                         stdin: Array(#"{"cniVersion":"1.0.0","name":"net","logFile":"/tmp/x.log"}"#.utf8))
        // A NetConf never chooses the log file (namespace users write NetConfs).
        #expect(log.path(environment) == "/nonexistent/log")
        #expect(log.path(CNIEnvironment(variables: ["MULTINIC_CNI_LOG": "/tmp/y.log"], stdin: environment.stdin)) == "/tmp/y.log")
        #expect(log.path(CNIEnvironment(variables: [:], stdin: [])) == "/nonexistent/log")
        let failed = log.line(environment, stdout: #"{"code":11,"msg":"multi-nicd unreachable","details":"/run/x.sock"}"#,
                              exitCode: 1, milliseconds: 12.345, now: 0)
        #expect(failed == "1970-01-01T00:00:00Z multi-nic ADD container=c1 ifname=net1 network=net exit=1 ms=12.34 code=11"
            + " msg=multi-nicd unreachable details=/run/x.sock")
        // Logging to a file that cannot be opened is skipped, never a failure.
        log.record(CNIEnvironment(variables: [:], stdin: []), stdout: "", exitCode: 0, milliseconds: 1)
    }
}

@Suite struct NetConfIPAMModeTests {
    func conf(_ text: String) throws(CNIError) -> MultiNICNetConf { try MultiNICNetConf(stdin: Array(text.utf8)) }

    @Test func multiNICIPAMFollowsTheFlagElseTheIPAMType() throws {
        #expect(try conf(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"multi-nic-ipam"}}"#).multiNICIPAM)
        #expect(try conf(#"{"cniVersion":"1.0.0","name":"n"}"#).multiNICIPAM)
        #expect(try !conf(#"{"cniVersion":"1.0.0","name":"n","ipam":{"type":"host-local"}}"#).multiNICIPAM)
        #expect(try !conf(#"{"cniVersion":"1.0.0","name":"n","multiNICIPAM":false,"ipam":{"type":"whereabouts"}}"#).multiNICIPAM)
    }

    @Test(arguments: [#"{"cniVersion":"1.0.0","name":"n","multiNICIPAM":false}"#,
                      #"{"cniVersion":"1.0.0","name":"n","multiNICIPAM":"yes"}"#])
    func contradictionsAreInvalidConfig(text: String) {
        #expect(throws: CNIError.self) { try conf(text) }
        #expect((try? conf(text)) == nil)
        do { _ = try conf(text) } catch { #expect(error.code == CNIError.invalidConfig && error.msg.contains("multiNICIPAM")) }
    }

    @Test func delegatesUseThePluginVersion() throws {
        #expect(try conf(#"{"cniVersion":"1.1.0","name":"n","plugin":{"cniVersion":"1.0.0","type":"macvlan"}}"#).delegateVersion == "1.0.0")
        #expect(try conf(#"{"cniVersion":"1.1.0","name":"n","plugin":{"type":"macvlan"}}"#).delegateVersion == "1.1.0")
    }

    @Test func multiNICIPAMNeedsAMaster() async {
        let variables = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/x", "CNI_IFNAME": "eth0", "CNI_PATH": "/x"]
        for text in [#"{"cniVersion":"1.0.0","name":"n","type":"macvlan","ipam":{"type":"multi-nic-ipam"}}"#,
                     #"{"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"","ipam":{"type":"multi-nic-ipam"}}"#] {
            let (output, code) = CNIDispatcher.run(CNIEnvironment(variables: variables, stdin: Array(text.utf8)),
                                                         handler: MultiNICIPAMHandler(defaultSocket: "/nonexistent.sock"))
            #expect(code == 1 && output.contains(#""code":7"#) && output.contains("master"), "\(output)")
        }
    }
}

/// A delegate starts with nothing blocked, even when spawned from a Swift-concurrency thread (which blocks most
/// signals): a runtime's SIGTERM must reach it.
@Suite(.ownThread) struct DelegateSignalTests {
    @Test func aDelegateStartsWithNoBlockedSignals() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-delegate-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = """
            #!/bin/sh
            blocked=$(awk '/^SigBlk/ {print $2}' /proc/self/status)
            printf '{"cniVersion":"1.0.0","blocked":"%s"}' "$blocked"
            """
        try script.write(toFile: directory + "/probe", atomically: true, encoding: .utf8)
        chmod(directory + "/probe", 0o755)
        // Run from a task: a cooperative thread, the case that matters.
        let answer = try await Task.detached {
            try DelegateRunner(searchPath: [directory]).run("probe", command: .add, containerID: "c", netns: "/proc/self/ns/net",
                                                           ifName: "eth1", args: "", config: .object([:]))
        }.value
        #expect(answer?.objectValue?["blocked"] == .string("0000000000000000"), "\(String(describing: answer))")
    }

    /// A delegate that exits without reading its stdin (here: 1 MB of config, more than a pipe holds) breaks the pipe;
    /// the caller gets the delegate's answer instead of dying of SIGPIPE.
    @Test func aDelegateThatIgnoresItsInputDoesNotKillTheCaller() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-delegate-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "#!/bin/sh\nexec 0<&-\nprintf '{\"cniVersion\":\"1.0.0\",\"ignored\":true}'\n"
            .write(toFile: directory + "/deaf", atomically: true, encoding: .utf8)
        chmod(directory + "/deaf", 0o755)
        let big: JSONValue = .object(["padding": .string(String(repeating: "x", count: 1 << 20))])
        let answer = try await Task.detached {
            try DelegateRunner(searchPath: [directory]).run("deaf", command: .add, containerID: "c", netns: "/proc/self/ns/net",
                                                           ifName: "eth1", args: "", config: big)
        }.value
        #expect(answer?.objectValue?["ignored"] == .bool(true))
    }

    /// A delegate that hangs is killed at the deadline and its call fails with "try again later" (11) naming it; the
    /// process is gone afterwards. A quick one is untouched by the deadline.
    @Test func aHungDelegateIsKilledAtTheDeadline() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-delegate-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "#!/bin/sh\necho $$ > \"$(dirname \"$0\")/pid\"\nexec sleep 120\n".write(toFile: directory + "/hang", atomically: true, encoding: .utf8)
        try "#!/bin/sh\nprintf '{\"cniVersion\":\"1.0.0\"}'\n".write(toFile: directory + "/quick", atomically: true, encoding: .utf8)
        chmod(directory + "/hang", 0o755)
        chmod(directory + "/quick", 0o755)
        let outcome = await Task.detached { () -> CNIError? in
            do {
                _ = try DelegateRunner(searchPath: [directory], timeoutSeconds: 1).run("hang", command: .add, containerID: "c",
                                                                                      netns: "/proc/self/ns/net", ifName: "net1-0",
                                                                                      args: "", config: .object([:]))
                return nil
            } catch {
                return error as? CNIError
            }
        }.value
        #expect(outcome?.code == CNIError.tryAgainLater && outcome?.msg == "hang ADD on net1-0 did not finish within 1 s and was killed",
                "\(String(describing: outcome))")
        let pid = Int32((try? String(contentsOfFile: directory + "/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(pid > 0 && kill(pid, 0) != 0, "the hung delegate (pid \(pid)) is gone")
        let quick = try await Task.detached {
            try DelegateRunner(searchPath: [directory], timeoutSeconds: 1).run("quick", command: .add, containerID: "c",
                                                                               netns: "/proc/self/ns/net", ifName: "net1-0", args: "",
                                                                               config: .object([:]))
        }.value
        #expect(quick?.objectValue?["cniVersion"] == .string("1.0.0"))
    }
}
