import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The real `multi-nic` binary, as Multus runs it, against a real multi-nicd, delegating to Debian's macvlan plugin:
/// a host namespace with two veth "NICs" and a pod namespace.
@Suite(.enabled(if: TestNamespace.canCreate && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/macvlan"),
                "needs root, iproute2 and containernetworking-plugins (CI installs them and runs as root)"),
       .serialized)
struct MultiNICEndToEndTests {
    static let pools = """
        [{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-192.168.0.0-26"},
          "spec":{"podCIDR":"192.168.0.0/26","vlanCIDR":"192.168.0.0/18","netAttachDef":"net","hostName":"worker-1",
                  "interfaceName":"eth1","excludes":[],"allocations":[]}},
         {"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-192.168.64.0-26"},
          "spec":{"podCIDR":"192.168.64.0/26","vlanCIDR":"192.168.64.0/18","netAttachDef":"net","hostName":"worker-1",
                  "interfaceName":"eth2","excludes":[],"allocations":[]}}]
        """

    /// Runs `multi-nic` in the host namespace; returns (exit code, stdout).
    static func cni(_ command: String, host: String, pod: String, config: String, container: String = "c1",
                    path: String = "/usr/lib/cni") throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", host, try BuiltPlugins.executable("multi-nic").path]
        process.environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": container, "CNI_NETNS": "/var/run/netns/\(pod)",
                               "CNI_IFNAME": "net1", "CNI_PATH": path,
                               "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=pod1;K8S_POD_UID=u1"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(config.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A host namespace with eth1/eth2, a pod namespace, and multi-nicd running in the host namespace.
    static func withCluster(_ body: (_ host: String, _ pod: String, _ directory: String) throws -> Void) throws {
        try TestNamespace.with { host, _ in
            try TestNamespace.with { pod, _ in
                try TestNamespace.addVethNICs(host, [("eth1", "10.0.1.11/24"), ("eth2", "10.0.2.11/24")])
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-e2e-\(UUID())").path
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
                    let daemon = try RunningDaemon(directory: directory, pluginsDirectory: plugins, pools: pools, namespace: host,
                                                   arguments: ["--node-name", "worker-1", "--virtual-kinds", "veth"])
                    defer { daemon.kill() }
                    try body(host, pod, directory)
                }
            }
        }
    }

    static func config(_ version: String, _ directory: String) -> String {
        #"{"cniVersion":"\#(version)","name":"net","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"plugin":{"cniVersion":"\#(version)","type":"macvlan","mode":"bridge"},"masterNets":["10.0.1.0/24","10.0.2.0/24"],"multiNICIPAM":true,"daemonSocket":"\#(directory)/d.sock"}"#
    }

    @Test func aFailureOnTheSecondNICLeavesNothingBehind() throws {
        try Self.withCluster { host, pod, directory in
            // A delegate that fails for net1-1 and is Debian's macvlan otherwise.
            let plugins = directory + "/cni"
            try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
            let script = "#!/bin/sh\nif [ \"$CNI_IFNAME\" = net1-1 ] && [ \"$CNI_COMMAND\" = ADD ]; then\n"
                + "  echo '{\"cniVersion\":\"1.0.0\",\"code\":100,\"msg\":\"injected failure\"}'; exit 1\nfi\nexec /usr/lib/cni/macvlan\n"
            try script.write(toFile: plugins + "/macvlan", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: plugins + "/macvlan")
            try FileManager.default.copyItem(atPath: "/usr/lib/cni/static", toPath: plugins + "/static")
            let (code, output) = try Self.cni("ADD", host: host, pod: pod, config: Self.config("1.0.0", directory), path: plugins)
            #expect(code != 0)
            #expect(output.contains(#""code":100"#) && output.contains("injected failure"), "\(output)")
            let links = try TestNamespace.ip("-n", pod, "-o", "link", "show")
            #expect(!links.contains("net1-0"), "the first NIC was rolled back")
            let status = UnixHTTPClient(path: directory + "/d.sock")?.request("GET", "/status")?.body ?? ""
            #expect(status.contains(#""inUse":0"#) && !status.contains(#""inUse":1"#), "addresses released: \(status)")
        }
    }

    @Test(arguments: ["0.3.1", "1.0.0"])
    func addCreatesOneInterfacePerNICAndDelRemovesEverything(version: String) throws {
        try Self.withCluster { host, pod, directory in
                    let config = Self.config(version, directory)
                    let (code, result) = try Self.cni("ADD", host: host, pod: pod, config: config)
                    #expect(code == 0, "ADD failed: \(result)")
                    let parsed = try JSONValue.parse(result).objectValue
                    #expect(parsed?["cniVersion"] == .string(version))
                    let addresses = try TestNamespace.ip("-n", pod, "-o", "addr", "show")
                    #expect(addresses.contains("net1-0") && addresses.contains("192.168.0.1/18"))
                    #expect(addresses.contains("net1-1") && addresses.contains("192.168.64.1/18"))
                    if version.hasPrefix("0.") { #expect(result.contains(#""version":"4""#)) }

                    let (deleted, deleteOutput) = try Self.cni("DEL", host: host, pod: pod, config: config)
                    #expect(deleted == 0, "DEL failed: \(deleteOutput)")
                    let remaining = try TestNamespace.ip("-n", pod, "-o", "link", "show")
                    #expect(!remaining.contains("net1-0") && !remaining.contains("net1-1"))
                    #expect(try Self.cni("DEL", host: host, pod: pod, config: config).0 == 0, "a second DEL succeeds")
                    let status = UnixHTTPClient(path: directory + "/d.sock")?.request("GET", "/status")?.body ?? ""
                    #expect(status.contains(#""inUse":0"#) && !status.contains(#""inUse":1"#), "every address released: \(status)")
        }
    }
}
