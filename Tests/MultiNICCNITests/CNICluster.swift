import Foundation
import MultiNICCore
import MultiNICTestSupport

/// A small cluster in network namespaces for the CNI end-to-end tests: `hosts` host namespaces, each with `nics`
/// veth NICs (NIC k of every host on bridge k of a fabric namespace, host address 10.0.k.(10+h)/24), a multi-nicd
/// per host with this host's IPPools of network `net` (192.168.0.0/16, NIC k → vlan 192.168.(64·(k-1)).0/18, host h
/// → the h-th /26 of it), and one pod namespace per host. Everything is removed afterwards.
struct CNICluster {
    final class Host {
        let namespace: String
        let directory: String
        private(set) var daemon: RunningDaemon
        private let start: ([String: String]) throws -> RunningDaemon
        var socket: String { directory + "/d.sock" }
        var stateDirectory: String { directory + "/state/cni" }

        init(namespace: String, directory: String, start: @escaping ([String: String]) throws -> RunningDaemon) throws {
            self.namespace = namespace
            self.directory = directory
            self.start = start
            daemon = try start([:])
        }

        /// A new multi-nicd over the same state (journal, pools), after a SIGKILL of the running one; `environment`
        /// for the new process.
        func restartDaemon(environment: [String: String] = [:]) throws {
            daemon.kill()
            daemon = try start(environment)
        }
    }

    let fabric: String
    let hosts: [Host]
    let pods: [String]
    let nics: Int

    static var available: Bool { CNIRun.available }

    /// Pod address on NIC `nic` (0-based) for the `ordinal`-th address (1-based) of host `host` (0-based).
    static func podAddress(host: Int, nic: Int, ordinal: Int = 1) -> String {
        "192.168.\(64 * nic).\(64 * host + ordinal)"
    }

    static func pools(host: Int, nics: Int) -> String {
        let items = (0..<nics).map { nic in
            let pod = "192.168.\(64 * nic).\(64 * host)"
            return #"{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-\#(pod)-26"},"#
                + #""spec":{"podCIDR":"\#(pod)/26","vlanCIDR":"192.168.\#(64 * nic).0/18","netAttachDef":"net","#
                + #""hostName":"host-\#(host)","interfaceName":"eth\#(nic + 1)","excludes":[],"allocations":[]}}"#
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    /// `pools`: host index → that host's IPPools (JSON list), instead of ``pools(host:nics:)``; `daemonEnvironment`:
    /// extra environment of every multi-nicd.
    static func with(hosts hostCount: Int = 2, nics: Int = 2, daemonArguments: [String] = [], daemonEnvironment: [String: String] = [:],
                     pools customPools: ((Int) -> String)? = nil, _ body: (CNICluster) throws -> Void) throws {
        try TestNamespace.withMany(1 + 2 * hostCount) { names in
            let fabric = names[0]
            let hostNames = Array(names[1...hostCount])
            let pods = Array(names[(hostCount + 1)...])
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-cluster-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
                var hosts: [Host] = []
                defer { hosts.forEach { $0.daemon.kill() } }
                for (index, namespace) in hostNames.enumerated() {
                    for nic in 0..<nics {
                        try TestNamespace.addBridgedNIC(namespace, nic: "eth\(nic + 1)", address: "10.0.\(nic + 1).\(11 + index)/24",
                                                        fabric: fabric, bridge: "br\(nic + 1)")
                    }
                    let directory = root + "/host-\(index)"
                    hosts.append(try Host(namespace: namespace, directory: directory) { environment in
                        try RunningDaemon(directory: directory, pluginsDirectory: plugins,
                                          pools: customPools?(index) ?? pools(host: index, nics: nics), namespace: namespace,
                                          arguments: ["--node-name", "host-\(index)", "--virtual-kinds", "veth"] + daemonArguments,
                                          environment: daemonEnvironment.merging(environment) { $1 })
                    })
                }
                try body(CNICluster(fabric: fabric, hosts: hosts, pods: pods, nics: nics))
            }
        }
    }

    /// The NAD config Multus would pass for network `net` (macvlan, multi-NIC IPAM) to a pod on `host`.
    func config(_ version: String, host: Int, delegateVersion: String? = nil, extra: String = "") -> String {
        let masterNets = (1...nics).map { "\"10.0.\($0).0/24\"" }.joined(separator: ",")
        let pluginVersion = delegateVersion ?? (CNIVersionTable.debianSupports(version) ? version : "1.0.0")
        return #"{"cniVersion":"\#(version)","name":"net","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"#
            + #""plugin":{"cniVersion":"\#(pluginVersion)","type":"macvlan","mode":"bridge"},"masterNets":[\#(masterNets)],"#
            + #""multiNICIPAM":true\#(extra)}"#
    }

    /// Runs a CNI binary (one of ours by name, or a path) in host `host`'s namespace for its pod, as Multus would;
    /// returns (exit code, stdout).
    /// `pod`: the pod's name, also its UID (pod<host>/u<host> when nil).
    func run(_ command: String, binary: String = "multi-nic", host: Int, config: String, container: String? = nil,
             ifName: String = "net1", netns: String? = nil, path: String = "/usr/lib/cni", pod: String? = nil) throws -> (Int32, String) {
        let executable = binary.hasPrefix("/") ? binary : try BuiltPlugins.executable(binary).path
        let podArgs = pod.map { "K8S_POD_NAME=\($0);K8S_POD_UID=\($0)" } ?? "K8S_POD_NAME=pod\(host);K8S_POD_UID=u\(host)"
        let environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": container ?? "c\(host)",
                           "CNI_NETNS": netns ?? "/var/run/netns/\(pods[host])", "CNI_IFNAME": ifName, "CNI_PATH": path,
                           "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;" + podArgs,
                           "MULTINIC_CNI_LOG": hosts[host].directory + "/cni.log",
                           // The node's paths come from the runtime's environment (Multus passes its own on), never the NetConf.
                           "MULTINIC_SOCKET": hosts[host].socket, "MULTINIC_CNI_STATE_DIR": hosts[host].stateDirectory]
        return try CNIRun.run(in: hosts[host].namespace, executable: executable, environment: environment, config: config)
    }

    /// The daemon's /status body on `host`.
    func status(host: Int) -> String {
        UnixHTTPClient(path: hosts[host].socket)?.request("GET", "/status")?.body ?? ""
    }

    /// Addresses in use on `host` (sum over its pools).
    func inUse(host: Int) -> Int {
        guard let pools = (try? JSONValue.parse(status(host: host)))?.objectValue?["pools"]?.arrayValue else { return -1 }
        return pools.reduce(0) { total, pool in
            if case .integer(let count)? = pool.objectValue?["inUse"] { return total + Int(count) }
            return total
        }
    }

    /// `ping -c 1` from pod `from` on interface `ifName` to `address`; true when it answered.
    func ping(from pod: Int, ifName: String, to address: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", pods[pod], "/usr/bin/ping", "-c", "1", "-W", "2", "-I", ifName, address]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

/// What Debian's reference plugins (1.1.1) speak: up to 1.0.0.
enum CNIVersionTable {
    static func debianSupports(_ version: String) -> Bool { version != "1.1.0" }
}
