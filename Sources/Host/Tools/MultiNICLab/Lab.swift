import Foundation
import MultiNICCore
import MultiNICKubelet

/// What `lab up` builds.
public struct LabOptions: Sendable {
    public var name = "lab"
    public var hosts = 3
    public var nics = 2
    public var podsPerHost = 1
    /// Labs live in `<root>/<name>`.
    public var root = "/run/multinic-lab"
    public var binaries = LabBinaries(directory: LabBinaries.executableDirectory)
    /// Alert rules for a Prometheus scraping the daemons; nil runs none.
    public var prometheusRules: String?
    /// GPUs per host on a fake PCIe tree (GPU k behind the switch of NIC eth<k+1>), with a stand-in kubelet
    /// naming each pod's GPU; the network's policy becomes topology. 0: none.
    public var gpusPerHost = 0
    /// DRA mode: a stand-in API server, daemons publishing ResourceSlices and serving the kubelet plugin, and each pod
    /// attached with the NICs of its ResourceClaim (the lab schedules and prepares it).
    public var dra = false

    public init() {}
    public var directory: String { root + "/" + name }
}

/// The local lab: a whole multi-NIC cluster in network namespaces on one machine.
public enum Lab {
    /// Builds hosts, daemons and the fabric, runs the controller until the network converged, attaches the pods
    /// through the real CNI path. On failure everything created so far is removed again.
    public static func up(_ network: MultiNicNetwork, options: LabOptions,
                          progress: @escaping @Sendable (String) -> Void) async throws(LabError) -> LabRecord {
        guard getuid() == 0 else { throw LabError("the lab creates network namespaces: run it as root") }
        guard (1...32).contains(options.nics), (1...64).contains(options.hosts), (0...128).contains(options.podsPerHost),
              (0...32).contains(options.gpusPerHost) else {
            throw LabError("--hosts 1…64, --nics 1…32, --pods-per-host 0…128, --gpus-per-host 0…32")
        }
        try options.binaries.check()
        if options.dra && !KubeletAPIs.podResources {
            throw LabError("--dra needs the kubelet's gRPC API (the DRA plugin), and this build has none (MULTINIC_WITHOUT_GRPC=1,"
                + " the main job's quick build): run `swift build` and `bash .ci/build-plugins` without it first")
        }
        if options.gpusPerHost > 0 && !KubeletAPIs.podResources {
            throw LabError("--gpus-per-host needs the kubelet's gRPC API, and this build has none (MULTINIC_WITHOUT_GRPC=1,"
                + " the main job's quick build): run `swift build` and `bash .ci/build-plugins` without it first")
        }
        if FileManager.default.fileExists(atPath: LabRecord.path(options.directory)) {
            throw LabError("lab \(options.name) is already up (\(options.directory)); run `multinicctl lab down --name \(options.name)`")
        }
        var record = LabRecord(name: options.name, directory: options.directory)
        record.network = network.name
        do {
            var network = network
            record.backend = try chooseBackend(&network, lab: options.name, progress: progress)
            if options.gpusPerHost > 0 && network.spec.attachPolicy?.strategy != "topology" {
                network.spec.attachPolicy = AttachPolicySpec(strategy: "topology")
                progress("attach policy: topology (each pod's NICs ranked by closeness to its GPU)")
            }
            try record.save()
            progress("building \(options.hosts) hosts × \(options.nics) NICs (fabric \(record.fabric))")
            try LabTopology.createFabric(&record, nics: options.nics)
            if options.dra {
                record.dra = true
                try LabDRA.startAPIServer(&record, binaries: options.binaries)
                progress("DRA mode: the lab's API server at \(LabDRA.apiAddress):\(LabDRA.apiPort); driver \(LabDRA.driver)")
            }
            for index in 0..<options.hosts {
                var host = try LabTopology.createHost(index, nics: options.nics, record: &record)
                record.hosts.append(host)
                try record.save()
                if options.gpusPerHost > 0 {
                    try LabTopology.startKubelet(&host, gpus: options.gpusPerHost, nics: options.nics, binaries: options.binaries)
                    record.hosts[index] = host
                    try record.save()
                }
                try LabTopology.startDaemon(&host, binaries: options.binaries,
                                            extra: options.dra ? try LabDRA.daemonArguments(host, record: record) : [])
                if options.dra && options.gpusPerHost > 0 { try LabDRA.publishGPUs(record, host: host) }
                record.hosts[index] = host
                try record.save()
            }
            progress("multi-nicd running on \(options.hosts) hosts; controller converging \(network.name):")
            _ = try await LabControl.converge(record, network: network, binaries: options.binaries, progress: progress)
            if options.dra { try LabDRA.waitForSlices(record, progress: progress) }
            try await LabPods.attach(&record, perHost: options.podsPerHost, binaries: options.binaries, progress: progress)
            if let rules = options.prometheusRules {
                try LabPrometheus.start(&record, rules: rules)
                progress("prometheus scraping \(record.hosts.count) daemons at \(LabPrometheus.address) in namespace \(record.fabric),"
                         + " rules \(rules); see firing alerts: multinicctl lab alerts --name \(record.name)")
            }
            return record
        } catch {
            progress("lab up failed: \(error); removing what was created")
            _ = down(name: options.name, root: options.root)
            throw error
        }
    }

    /// Removes everything the lab created: processes, namespaces (links, bridges, routes), its directory.
    public static func down(name: String, root: String) -> [String] {
        let directory = root + "/" + name
        let record = try? LabRecord.load(directory: directory)
        let removed = LabTopology.destroy(lab: name, record: record)
        // A chaos run that did not finish leaves its journal disks mounted.
        for mount in LabJournalDisk.mounts(under: directory) { _ = try? LabShell.run("/usr/bin/umount", [mount]) }
        try? FileManager.default.removeItem(atPath: directory)
        return removed
    }

    /// Unplugs host `host`'s NIC `nic` (every NIC when nil) at the fabric, then lets the controller see it.
    public static func breakLink(name: String, root: String, host: Int, nic: Int?, binaries: LabBinaries,
                                 progress: @escaping @Sendable (String) -> Void) async throws(LabError) -> MultiNicNetworkStatus {
        var record = try LabRecord.load(directory: root + "/" + name)
        guard record.hosts.indices.contains(host) else { throw LabError("--host must be 0…\(record.hosts.count - 1)") }
        let target = record.hosts[host]
        let nics = try nic.map { index throws(LabError) -> [LabRecord.NIC] in
            guard (1...target.nics.count).contains(index) else { throw LabError("--nic must be 1…\(target.nics.count)") }
            return [target.nics[index - 1]]
        } ?? target.nics
        for item in nics {
            try LabShell.ip("-n", record.fabric, "link", "set", item.fabricPort, "down")
            let key = "\(target.node)/\(item.name)"
            if !record.broken.contains(key) { record.broken.append(key) }
        }
        try record.save()
        progress("unplugged \(nics.map(\.name).joined(separator: ", ")) of \(target.node)")
        return try await LabControl.converge(record, network: nil, binaries: binaries, progress: progress)
    }

    /// Plugs every unplugged NIC back in and lets the controller converge.
    public static func heal(name: String, root: String, binaries: LabBinaries,
                            progress: @escaping @Sendable (String) -> Void) async throws(LabError) -> MultiNicNetworkStatus {
        var record = try LabRecord.load(directory: root + "/" + name)
        for host in record.hosts {
            for nic in host.nics where record.broken.contains("\(host.node)/\(nic.name)") {
                try LabShell.ip("-n", record.fabric, "link", "set", nic.fabricPort, "up")
            }
        }
        progress("plugged back: " + (record.broken.isEmpty ? "nothing was unplugged" : record.broken.joined(separator: ", ")))
        record.broken = []
        try record.save()
        return try await LabControl.converge(record, network: nil, binaries: binaries, progress: progress)
    }

    /// ipvlan as the network asks when the kernel has it, else macvlan in bridge mode (said on the way).
    static func chooseBackend(_ network: inout MultiNicNetwork, lab: String,
                              progress: @Sendable (String) -> Void) throws(LabError) -> String {
        let asked = network.spec.plugin.type
        guard asked == "ipvlan", !LabTopology.kernelHasIPVLAN(lab: lab) else {
            progress("backend: \(asked)")
            return asked
        }
        network.spec.plugin.type = "macvlan"
        network.spec.plugin.args = ["mode": "bridge"]
        progress("backend: macvlan (bridge mode) — this kernel has no ipvlan, so the network's ipvlan is swapped for macvlan")
        return "macvlan"
    }
}
