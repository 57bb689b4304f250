import Foundation
import MultiNICCore
import MultiNICDaemonClient
import MultiNICKubelet
import Synchronization

/// Pods of the lab: a network namespace each, attached through the real CNI path — the `multi-nic` binary run in
/// its host's namespace with the generated NAD's config on stdin and the CNI_* environment, as Multus runs it.
enum LabPods {
    static func attach(_ record: inout LabRecord, perHost: Int, binaries: LabBinaries,
                       progress: @escaping @Sendable (String) -> Void) async throws(LabError) {
        guard perHost > 0 else { return }
        let config = try await LabControl.attachmentConfig(record)
        let start = Date()
        var planned: [(host: LabRecord.Host, pod: LabRecord.Pod)] = []
        for (hostIndex, host) in record.hosts.enumerated() {
            for index in 0..<perHost {
                let name = LabNames.pod(lab: record.name, host: hostIndex, index: index)
                let namespace = LabNames.namespace(lab: record.name, "host-\(hostIndex)-pod-\(index)")
                try LabTopology.createNamespace(namespace, record: &record)
                planned.append((host, LabRecord.Pod(name: name, namespace: namespace, host: host.node,
                                                    containerID: "\(name)-\(UUID().uuidString.prefix(8).lowercased())", addresses: [])))
            }
        }
        // DRA mode: the scheduler and the kubelet first, one claim after the other (as the scheduler allocates).
        var claimed: [String: LabDRA.Claimed] = [:]
        if record.dra == true {
            #if MULTINIC_GRPC
            for (host, pod) in planned {
                claimed[pod.name] = try await LabDRA.claim(for: pod, on: host, record: record, nics: max(1, host.nics.count / perHost))
            }
            #else
            throw LabError("DRA mode needs the kubelet's gRPC API, and this build has none")
            #endif
        }
        let claims = claimed
        // Every host at once (a node's kubelet starts its pods independently of the others), each host's pods one
        // after the other (as one node's runtime mostly does; its multi-nicd caps concurrent attaches anyway).
        let hosts = record.hosts
        let snapshot = record
        let plan = planned
        let attached = Mutex<[String: LabRecord.Pod]>([:])
        let failure = Mutex<LabError?>(nil)
        DispatchQueue.concurrentPerform(iterations: hosts.count) { hostIndex in
            let host = hosts[hostIndex]
            // GPU k for the host's k-th pod, counting the pods it already has.
            var given = snapshot.pods.filter { $0.host == host.node }.count
            for (_, pod) in plan where pod.host == host.node && failure.withLock({ $0 }) == nil {
                do throws(LabError) {
                    var done = pod
                    var podConfig = config
                    if let claim = claims[pod.name] {
                        // Multus: the NAD's resource matched the claimed NICs' slices; it hands the ADD one's ID.
                        var fields = (try? JSONValue.parse(config))?.objectValue ?? [:]
                        fields["deviceID"] = .string(claim.deviceID)
                        podConfig = JSONValue.object(fields).description
                        done.claim = claim.claim
                        done.gpu = claim.gpu
                    } else if let gpus = host.gpus, gpus > 0 {
                        // The stand-in kubelet gives the host's k-th pod GPU k (round robin) before the CNI ADD asks.
                        let gpu = LabHardware.lab(nics: host.nics.count, gpus: gpus).gpus[given % gpus]
                        try give(gpu, to: pod, on: host, record: snapshot)
                        done.gpu = gpu.address
                        given += 1
                    }
                    let output = try run("ADD", host: host, namespace: pod.namespace, pod: pod.name,
                                         containerID: pod.containerID, config: podConfig, binaries: binaries)
                    done.addresses = try addresses(in: output, pod: pod.name)
                    done.masters = claims[pod.name]?.masters ?? masters(of: done, on: host, network: snapshot.network)
                    attached.withLock { $0[pod.name] = done }
                    progress("  pod \(pod.name): " + describe(done))
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        // Recorded in plan order, including what attached before a failure (so `lab down` finds it).
        let done = attached.withLock { $0 }
        record.pods += planned.compactMap { done[$0.pod.name] }
        try record.save()
        if let error = failure.withLock({ $0 }) { throw error }
        try record.save()
        let nics = record.pods.first?.addresses.count ?? 0
        progress(String(format: "attached %d pods × %d NICs in %.1f s", record.pods.count, nics, Date().timeIntervalSince(start)))
    }

    /// `net1-0 192.168.0.1 (eth1), …` and the pod's GPU.
    static func describe(_ pod: LabRecord.Pod) -> String {
        pod.addresses.enumerated().map { position, address in
            "net1-\(position) \(address)" + (pod.masters.flatMap { position < $0.count ? " (\($0[position]))" : nil } ?? "")
        }.joined(separator: ", ") + (pod.gpu.map { "; GPU \($0)" } ?? "")
    }

    /// Adds the pod with `gpu` to its host's stand-in kubelet.
    static func give(_ gpu: (uuid: String, address: String), to pod: LabRecord.Pod, on host: LabRecord.Host,
                     record: LabRecord) throws(LabError) {
        do {
            let data = FileManager.default.contents(atPath: host.kubeletPods) ?? Data("[]".utf8)
            var pods = try JSONDecoder().decode([StandInPod].self, from: data)
            pods.append(StandInPod(namespace: "default", name: pod.name, containers: [
                .init(name: "main", devices: [.init(resourceName: "nvidia.com/gpu", deviceIDs: [gpu.uuid])])]))
            try JSONEncoder().encode(pods).write(to: URL(fileURLWithPath: host.kubeletPods), options: .atomic)
        } catch {
            throw LabError("cannot update \(host.kubeletPods): \(error)")
        }
    }

    /// The host NIC of each pod interface, from the daemon's leases (nil when the daemon cannot say).
    static func masters(of pod: LabRecord.Pod, on host: LabRecord.Host, network: String) -> [String]? {
        guard let leases = try? DaemonClient(socketPath: host.socket, timeoutSeconds: 2)
            .leases(LeaseQuery(network: network, containerID: pod.containerID)) else { return nil }
        let byInterface = Dictionary(leases.compactMap { lease in lease.ifName.map { ($0, lease.interface) } },
                                     uniquingKeysWith: { first, _ in first })
        return pod.addresses.indices.map { byInterface["net1-\($0)"] ?? "?" }
    }

    /// Runs `multi-nic` for one pod; returns its stdout, or throws its CNI error.
    static func run(_ command: String, host: LabRecord.Host, namespace: String, pod: String, containerID: String,
                    config: String, binaries: LabBinaries, extra: [String: String] = [:]) throws(LabError) -> String {
        let environment = extra.merging(["CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/\(namespace)",
                           "CNI_IFNAME": "net1", "CNI_PATH": binaries.cniPath,
                           "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod);K8S_POD_UID=\(containerID)",
                           "MULTINIC_SOCKET": host.socket, "MULTINIC_CNI_STATE_DIR": host.cniStateDirectory,
                           "MULTINIC_CNI_LOG": host.directory + "/multi-nic-cni.log", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) { $1 }
        let result = try LabShell.inNamespace(host.namespace, [binaries.cni], environment: environment, stdin: config)
        guard result.status == 0 else {
            throw LabError("multi-nic \(command) for \(pod) on \(host.node) failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output
    }

    /// The pod's addresses in interface order (without prefix lengths).
    static func addresses(in result: String, pod: String) throws(LabError) -> [String] {
        guard let object = (try? JSONValue.parse(result))?.objectValue,
              let interfaces = object["interfaces"]?.arrayValue, let ips = object["ips"]?.arrayValue else {
            throw LabError("multi-nic printed no result for \(pod): \(result)")
        }
        return interfaces.indices.map { position in
            let entry = ips.first { item in
                if case .integer(let index)? = item.objectValue?["interface"] { return Int(index) == position }
                return false
            }
            let address = entry?.objectValue?["address"]?.stringValue ?? ""
            return String(address.split(separator: "/").first ?? "")
        }
    }
}

extension Lab {
    /// `lab status`: hosts, NICs (and whether their cable is in), pods and addresses, the network's status and what
    /// each daemon reports.
    public static func status(name: String, root: String) async throws(LabError) -> String {
        let record = try LabRecord.load(directory: root + "/" + name)
        var lines = ["lab \(record.name): \(record.hosts.count) hosts, \(record.pods.count) pods, network \(record.network)"
                     + " (backend \(record.backend))"]
        let fleet = LabFleet(sockets: Dictionary(uniqueKeysWithValues: record.hosts.map { ($0.node, $0.socket) }))
        for host in record.hosts {
            let daemon = await fleet.status(node: host.node)
            let alive = host.daemonPID.map { kill($0, 0) == 0 } ?? false
            let nics = host.nics.map { nic in
                nic.name + " " + nic.address + (record.broken.contains("\(host.node)/\(nic.name)") ? " (unplugged)" : "")
            }
            let routes = (daemon?.routesInSync ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value ? "in sync" : "NOT in sync")" }
            lines.append("  \(host.node)  daemon \(alive ? "pid \(host.daemonPID ?? 0)" : "DOWN")  NICs: \(nics.joined(separator: ", "))")
            lines.append("    pools: \((daemon?.pools ?? []).map { "\($0.name) \($0.inUse) in use" }.joined(separator: ", "))"
                         + "  routes: \(routes.isEmpty ? "-" : routes.joined(separator: ", "))"
                         + ((daemon?.degraded ?? []).isEmpty ? "" : "  degraded: " + (daemon?.degraded ?? []).joined(separator: "; ")))
        }
        for pod in record.pods {
            lines.append("  pod \(pod.name) on \(pod.host): " + LabPods.describe(pod))
        }
        if let pid = record.prometheusPID {
            lines.append("  prometheus \(kill(pid, 0) == 0 ? "pid \(pid)" : "DOWN") at http://\(LabPrometheus.address) in namespace \(record.fabric)"
                         + " (multinicctl lab alerts --name \(record.name))")
        }
        if let status = await LabControl.networkStatus(record) {
            lines.append("  network \(record.network): config \(status.configStatus.rawValue), routes \(status.routeStatus.rawValue)"
                         + (status.message.isEmpty ? "" : " — \(status.message)"))
        }
        return lines.joined(separator: "\n")
    }
}
