import Foundation
import MultiNICCNI
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The attacks of issue 12 that a NetConf or cni-args author (any namespace user who may create a NAD or a pod) can
/// try against the CNI binaries. Each test reproduces the attack and fails against the code before the fix.
@Suite(.ownThread) struct CNISecurityTests {
    /// A temporary directory removed afterwards.
    static func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-sec-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    /// An executable script that creates `marker` when run: the "program" an attacker wants root to execute.
    static func plantProgram(_ path: String, marker: String) throws {
        try "#!/bin/sh\ntouch \(marker)\necho '{}'\n".write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    @Test func aNetConfLogFileAndANameWithNewlinesCannotWriteIntoAnotherFile() throws {
        try Self.withDirectory { directory in
            let victim = directory + "/passwd"
            try "root:x:0:0:root:/root:/bin/bash\n".write(toFile: victim, atomically: true, encoding: .utf8)
            let before = try String(contentsOfFile: victim, encoding: .utf8)
            let log = InvocationLog(binary: "multi-nic", defaultPath: directory + "/multi-nic-cni.log")
            let conf = #"{"cniVersion":"1.0.0","name":"x\nevil::0:0:evil:/root:/bin/sh\n","type":"multi-nic","logFile":"\#(victim)"}"#
            let environment = CNIEnvironment(variables: ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c\u{1b}[2J", "CNI_IFNAME": "net1"],
                                             stdin: Array(conf.utf8))
            log.record(environment, stdout: #"{"code":7,"msg":"bad\nline","details":""}"#, exitCode: 1, milliseconds: 1)
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == before, "the NetConf chose the log file")
            let written = try String(contentsOfFile: directory + "/multi-nic-cni.log", encoding: .utf8)
            #expect(written.split(separator: "\n").count == 1, "one invocation, one line: \(written)")
            #expect(written.contains(#"network=x\nevil::0:0"#) && written.contains(#"container=c\u{1b}[2J"#) && written.contains(#"msg=bad\nline"#))
        }
    }

    @Test func theLogFileIsNeverOpenedThroughASymlink() throws {
        try Self.withDirectory { directory in
            let victim = directory + "/shadow"
            try "secret\n".write(toFile: victim, atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: directory + "/cni.log", withDestinationPath: victim)
            let log = InvocationLog(binary: "multi-nic", defaultPath: directory + "/cni.log")
            log.record(CNIEnvironment(variables: ["CNI_COMMAND": "DEL"], stdin: []), stdout: "", exitCode: 0, milliseconds: 1)
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "secret\n")
        }
    }

    @Test(arguments: ["../../../tmp/x/evil.sh", "..", ".", "/bin/sh", "evil\nx", "", "sub/dir"])
    func aDelegateTypeIsABarePluginName(type: String) throws {
        try Self.withDirectory { directory in
            let bin = directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin + "/sub", withIntermediateDirectories: true)
            try Self.plantProgram(directory + "/evil.sh", marker: directory + "/ran")
            try Self.plantProgram(bin + "/sub/dir", marker: directory + "/ran")
            // The traversal the report used, relative to this CNI_PATH entry.
            let hostile = type.hasPrefix("../") ? "../evil.sh" : type
            let runner = DelegateRunner(searchPath: [bin])
            #expect(throws: CNIError.self) {
                _ = try runner.run(hostile, command: .add, containerID: "c1", netns: "/nonexistent", ifName: "net1-0", args: "",
                                   config: .object(["type": .string(hostile)]))
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/ran"), "\(hostile) ran")
        }
    }

    @Test func aPlantedRecordCannotRunAProgramOnDEL() async throws {
        try await Self.withDirectoryAsync { directory in
            try Self.plantProgram(directory + "/evil.sh", marker: directory + "/ran")
            let bin = directory + "/bin"
            try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
            let evilState = directory + "/evil-state"
            let ownState = directory + "/state"
            let record = CachedAttachment(network: "net", containerID: "c1", ifName: "net1", nics: [
                AttachedNIC(master: "eth1", ifName: "net1-0", address: IPNetwork("10.0.0.2/24"),
                            delegate: .object(["type": .string("../evil.sh"), "cniVersion": .string("1.0.0"), "name": .string("net")]))])
            // The report's attack: a record under a state directory the NetConf names, and one in the node's own.
            try AttachmentStore(directory: evilState).save(record)
            try AttachmentStore(directory: ownState).save(record)
            let handler = MultiNICHandler(defaultSocket: directory + "/none.sock", defaultStateDirectory: ownState)
            let conf = #"{"cniVersion":"1.0.0","name":"net","type":"multi-nic","plugin":{"type":"macvlan"},"cniStateDir":"\#(evilState)","daemonSocket":"\#(directory)/x.sock"}"#
            let arguments = try CNIArguments(CNIEnvironment(variables: ["CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "net1",
                                                                        "CNI_PATH": bin], stdin: []))
            try handler.delete(arguments, stdin: Array(conf.utf8))
            #expect(!FileManager.default.fileExists(atPath: directory + "/ran"), "the planted delegate type ran")
            #expect(AttachmentStore(directory: evilState).load(network: "net", containerID: "c1", ifName: "net1") != nil,
                    "the NetConf's state directory was used")
        }
    }

    @Test func unsafeNamesNeverBecomeRecordPaths() throws {
        try Self.withDirectory { directory in
            let store = AttachmentStore(directory: directory + "/state")
            #expect(throws: CNIError.self) { try store.save(CachedAttachment(network: "../../x", containerID: "c", ifName: "n", nics: [])) }
            #expect(store.load(network: "..", containerID: "c", ifName: "n") == nil)
            #expect(!FileManager.default.fileExists(atPath: directory + "/x_c_n.json"))
            // A record whose content names are unsafe is not used when read back.
            try FileManager.default.createDirectory(atPath: directory + "/state/attachments", withIntermediateDirectories: true)
            try #"{"network":"net","containerID":"c","ifName":"net1","nics":[{"master":"eth1","ifName":"../../x","address":""}]}"#
                .write(toFile: directory + "/state/attachments/net_c_net1.json", atomically: true, encoding: .utf8)
            #expect(store.load(network: "net", containerID: "c", ifName: "net1") == nil)
        }
    }

    @Test(arguments: [("CNI_CONTAINERID", "../x"), ("CNI_IFNAME", "a/b"), ("CNI_IFNAME", "averyveryverylongname")])
    func theRuntimesNamesAreChecked(variable: String, value: String) {
        var variables = ["CNI_COMMAND": "DEL", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "net1", "CNI_PATH": "/usr/lib/cni"]
        variables[variable] = value
        #expect(throws: CNIError.self) { try CNIArguments(CNIEnvironment(variables: variables, stdin: [])) }
    }

    @Test(arguments: ["a b", "x\ny", "../n", ""])
    func aNetworkNameFollowsTheSpec(name: String) {
        let conf = JSONValue.object(["cniVersion": .string("1.0.0"), "name": .string(name), "type": .string("multi-nic")]).description
        #expect(throws: CNIError.self) { try MultiNICNetConf(stdin: Array(conf.utf8)) }
    }

    /// The device Multus hands the ADD: `runtimeConfig.deviceID` before the top-level `deviceID`; anything but a short
    /// printable string is refused with code 7 naming the field.
    @Test func aDeviceIDFromMultusIsReadAndChecked() throws {
        func conf(_ extra: [String: JSONValue]) -> [UInt8] {
            Array(JSONValue.object(["cniVersion": .string("1.0.0"), "name": .string("net"), "type": .string("multi-nic")]
                .merging(extra) { $1 }).description.utf8)
        }
        #expect(try MultiNICNetConf(stdin: conf([:])).deviceID == nil)
        #expect(try MultiNICNetConf(stdin: conf(["deviceID": .string("0000:1b:00.0")])).deviceID == "0000:1b:00.0")
        #expect(try MultiNICNetConf(stdin: conf(["deviceID": .string("0000:1b:00.0"),
                                                 "runtimeConfig": .object(["deviceID": .string("eth2")])])).deviceID == "eth2")
        for bad: JSONValue in [.integer(3), .string(""), .string("a b"), .string(String(repeating: "x", count: 254)), .string("é")] {
            do {
                _ = try MultiNICNetConf(stdin: conf(["deviceID": bad]))
                Issue.record("deviceID \(bad) accepted")
            } catch {
                #expect(error.code == CNIError.invalidConfig && error.msg.contains("deviceID"), "\(error)")
            }
        }
    }

    /// The async twin of ``withDirectory(_:)``.
    static func withDirectoryAsync<T>(_ body: (String) async throws -> T) async throws -> T {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-sec-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try await body(directory)
    }
}

/// The NetConf cannot point the binary at another daemon: the real `multi-nic` with a NetConf naming a live daemon's
/// socket talks only to the socket of its environment.
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root (CI runs as root)"))
struct CNISocketChoiceTests {
    @Test func aNetConfDaemonSocketIsIgnored() throws {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-sock-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
            let daemon = try RunningDaemon(directory: directory + "/rogue", pluginsDirectory: plugins)
            defer { daemon.kill() }
            let conf = #"{"cniVersion":"1.0.0","name":"net","type":"multi-nic","plugin":{"cniVersion":"1.0.0","type":"macvlan"},"#
                + #""masterNets":["127.0.0.0/8"],"daemonSocket":"\#(daemon.socketPath)","cniStateDir":"\#(directory)/evil"}"#
            let process = Process()
            process.executableURL = try BuiltPlugins.executable("multi-nic")
            process.environment = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/nonexistent", "CNI_IFNAME": "net1",
                                   "CNI_PATH": "/usr/lib/cni", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p",
                                   "MULTINIC_SOCKET": directory + "/node.sock", "MULTINIC_CNI_STATE_DIR": directory + "/state",
                                   "MULTINIC_CNI_LOG": directory + "/cni.log"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            input.fileHandleForWriting.write(Data(conf.utf8))
            try input.fileHandleForWriting.close()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(text.contains(#""code":11"#), "the node's own socket is absent: try again later, \(text)")
            let leases = UnixHTTPClient(path: daemon.socketPath)?.request("POST", "/leases", body: #"{"network":"net","containerID":"c1"}"#)
            #expect(leases?.body == "[]", "the NetConf's daemon handed out an address: \(leases?.body ?? "")")
            #expect(!FileManager.default.fileExists(atPath: directory + "/evil"))
        }
    }
}
