import Foundation
import MultiNICCNI
import MultiNICCore
import MultiNICDaemonClient

/// Builds and removes the lab's network: a fabric namespace with one bridge per network (br0 is the hosts' primary
/// network with their default route; br1…brN are the secondary NIC networks 10.0.k.0/24), host namespaces whose
/// NICs are veths plugged into those bridges, and one multi-nicd per host.
enum LabTopology {
    /// True when this kernel can create ipvlan links (it is tried in a throw-away namespace).
    static func kernelHasIPVLAN(lab: String) -> Bool {
        let probe = LabNames.namespace(lab: lab, "probe")
        LabShell.ipIgnoringErrors("netns", "delete", probe)
        guard (try? LabShell.ip("netns", "add", probe)) != nil else { return false }
        defer { LabShell.ipIgnoringErrors("netns", "delete", probe) }
        guard (try? LabShell.ip("-n", probe, "link", "add", "pa", "type", "veth", "peer", "name", "pb")) != nil else { return false }
        return (try? LabShell.ip("-n", probe, "link", "add", "link", "pa", "name", "iv0", "type", "ipvlan", "mode", "l3")) != nil
    }

    static func createNamespace(_ name: String, record: inout LabRecord) throws(LabError) {
        LabShell.ipIgnoringErrors("netns", "delete", name)
        try LabShell.ip("netns", "add", name)
        record.namespaces.append(name)
        try record.save()
        try LabShell.ip("-n", name, "link", "set", "lo", "up")
    }

    static func createFabric(_ record: inout LabRecord, nics: Int) throws(LabError) {
        try createNamespace(record.fabric, record: &record)
        for bridge in 0...nics {
            try LabShell.ip("-n", record.fabric, "link", "add", "br\(bridge)", "type", "bridge")
            try LabShell.ip("-n", record.fabric, "link", "set", "br\(bridge)", "up")
        }
        try LabShell.ip("-n", record.fabric, "addr", "add", "172.31.0.1/24", "dev", "br0")
    }

    /// Host `index`'s address on the primary network (br0), where its daemon's TCP port answers.
    static func primaryAddress(host index: Int) -> String { "172.31.0.\(10 + index)" }

    /// Host `index` with its primary link and `nics` secondary NICs.
    static func createHost(_ index: Int, nics: Int, record: inout LabRecord) throws(LabError) -> LabRecord.Host {
        let namespace = LabNames.namespace(lab: record.name, "host-\(index)")
        try createNamespace(namespace, record: &record)
        var host = LabRecord.Host(node: LabNames.node(lab: record.name, host: index), namespace: namespace,
                                  directory: record.directory + "/host-\(index)", nics: [])
        for nic in 0...nics {
            let name = "eth\(nic)"
            let address = nic == 0 ? primaryAddress(host: index) + "/24" : "10.0.\(nic).\(10 + index)/24"
            let port = "h\(index)e\(nic)"
            try LabShell.ip("-n", record.fabric, "link", "add", port, "type", "veth", "peer", "name", name, "netns", namespace)
            try LabShell.ip("-n", record.fabric, "link", "set", port, "master", "br\(nic)", "up")
            try LabShell.ip("-n", namespace, "addr", "add", address, "dev", name)
            try LabShell.ip("-n", namespace, "link", "set", name, "up")
            if nic > 0 { host.nics.append(LabRecord.NIC(name: name, address: address, bridge: "br\(nic)", fabricPort: port)) }
        }
        try LabShell.ip("-n", namespace, "route", "add", "default", "via", "172.31.0.1")
        return host
    }

    /// Starts the host's multi-nicd inside its namespace (socket, state, token and rt_tables in the host's
    /// directory) and waits until it answers.
    static func startDaemon(_ host: inout LabRecord.Host, binaries: LabBinaries, extra: [String] = []) throws(LabError) {
        do {
            try FileManager.default.createDirectory(atPath: host.directory, withIntermediateDirectories: true)
            // Private (0600): the daemon refuses a token file that group or others may read.
            try PrivateFile.store(Array((UUID().uuidString + UUID().uuidString).utf8), at: host.directory + "/token")
        } catch {
            throw LabError("cannot prepare \(host.directory): \(error.localizedDescription)")
        }
        let arguments = [binaries.daemon, "--node-name", host.node, "--port", "11000",
                         "--token-file", host.directory + "/token", "--socket", host.socket,
                         "--state-dir", host.directory + "/state", "--cni-state-dir", host.cniStateDirectory,
                         "--plugins-dir", binaries.plugins, "--rt-tables", host.directory + "/rt_tables",
                         "--virtual-kinds", "veth", "--log-level", "info",
                         // A DEL queued while the daemon was down is replayed within seconds (a node's default is 30).
                         "--release-replay-seconds", "5"]
            + ((host.gpus ?? 0) > 0 ? ["--sysfs-root", host.sysfsRoot, "--nvidia-root", host.nvidiaRoot,
                                       "--pod-resources-socket", host.kubeletSocket] : []) + extra
        let process = try LabShell.spawn("multi-nicd for \(host.node)", in: host.namespace, arguments,
                                         log: host.directory + "/multi-nicd.log", sysfs: true)
        host.daemonPID = process.processIdentifier
        let client = DaemonClient(socketPath: host.socket, timeoutSeconds: 2)
        for _ in 0..<300 {
            if (try? client.status()) != nil { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw LabError("multi-nicd of \(host.node) did not answer on \(host.socket); see \(host.directory)/multi-nicd.log")
    }

    /// A host with GPUs: writes its fake PCIe tree (NIC eth<k> and GPU k-1 behind one switch) and starts its
    /// stand-in kubelet (`multinicctl lab kubelet`) in the host's namespace, serving the pods file.
    static func startKubelet(_ host: inout LabRecord.Host, gpus: Int, nics: Int, binaries: LabBinaries) throws(LabError) {
        do {
            try FileManager.default.createDirectory(atPath: host.directory, withIntermediateDirectories: true)
            try LabHardware.lab(nics: nics, gpus: gpus).write(sysfsRoot: host.sysfsRoot, nvidiaRoot: host.nvidiaRoot)
            try Data("[]".utf8).write(to: URL(fileURLWithPath: host.kubeletPods))
        } catch {
            throw LabError("cannot write the PCIe tree of \(host.node): \(error)")
        }
        host.gpus = gpus
        let process = try LabShell.spawn("the stand-in kubelet of \(host.node)", in: host.namespace,
                                         [binaries.directory + "/multinicctl", "lab", "kubelet", "--socket", host.kubeletSocket,
                                          "--pods-file", host.kubeletPods], log: host.directory + "/kubelet.log")
        host.kubeletPID = process.processIdentifier
        for _ in 0..<300 {
            if FileManager.default.fileExists(atPath: host.kubeletSocket) { return }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw LabError("the stand-in kubelet of \(host.node) did not listen on \(host.kubeletSocket); see \(host.directory)/kubelet.log")
    }

    /// Stops every process in the lab's namespaces, then deletes the namespaces (their links, bridges and routes go
    /// with them). Also finds namespaces of this lab that the record missed.
    static func destroy(lab: String, record: LabRecord?) -> [String] {
        var removed: [String] = []
        // Daemons first, gracefully, then anything left in the namespaces is killed.
        let daemons = ((record?.hosts ?? []).compactMap(\.daemonPID) + [record?.apiServerPID].compactMap { $0 }).filter { $0 > 1 }  // never 0 or -1: a group, or everyone
        for pid in daemons { kill(pid, SIGTERM) }
        for _ in 0..<100 where daemons.contains(where: { kill($0, 0) == 0 }) { usleep(20_000) }
        for pid in daemons where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        let listed = ((try? LabShell.ip("netns", "list")) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix(LabNames.prefix(lab: lab)) }
        let namespaces = Array(Set((record?.namespaces ?? []) + listed)).sorted()
        for namespace in namespaces {
            let pids = ((try? LabShell.ip("netns", "pids", namespace)) ?? "").split(separator: "\n").compactMap { Int32($0) }.filter { $0 > 1 }
            for pid in pids { kill(pid, SIGKILL) }
        }
        usleep(100_000)
        for namespace in namespaces where (try? LabShell.ip("netns", "delete", namespace)) != nil { removed.append(namespace) }
        return removed
    }
}

/// Where the lab finds MultiNIC's executables and plugins: next to multinicctl by default.
public struct LabBinaries: Sendable {
    public var daemon: String
    public var cni: String
    public var plugins: String
    /// Directories searched for delegate plugins (Debian's reference plugins).
    public var cniPath: String
    /// Where the executables are.
    public var directory: String

    public init(directory: String, plugins: String? = nil, cniPath: String = "/usr/lib/cni") {
        self.directory = directory
        daemon = directory + "/multi-nicd"
        cni = directory + "/multi-nic"
        self.plugins = plugins ?? directory + "/plugins.d"
        self.cniPath = cniPath
    }

    /// The directory of the running executable.
    public static var executableDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    func check() throws(LabError) {
        for path in [daemon, cni] where !FileManager.default.isExecutableFile(atPath: path) {
            throw LabError("\(path) is missing: build first (swift build && bash .ci/build-plugins)")
        }
        guard FileManager.default.isExecutableFile(atPath: cniPath + "/macvlan") else {
            throw LabError("\(cniPath)/macvlan is missing: install Debian's containernetworking-plugins")
        }
    }
}
