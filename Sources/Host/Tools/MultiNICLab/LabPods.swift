import Foundation
import MultiNICCore

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
        // One pod after the other: attaching on several hosts at once was measured slower here (the kernel's
        // rtnl lock serialises link creation anyway, and 2 cores).
        for (host, pod) in planned {
            let output = try run("ADD", host: host, namespace: pod.namespace, pod: pod.name, containerID: pod.containerID,
                                 config: config, binaries: binaries)
            var attached = pod
            attached.addresses = try addresses(in: output, pod: pod.name)
            record.pods.append(attached)
            try record.save()
            progress("  pod \(pod.name): " + attached.addresses.enumerated().map { "net1-\($0.offset) \($0.element)" }
                .joined(separator: ", "))
        }
        try record.save()
        let nics = record.pods.first?.addresses.count ?? 0
        progress(String(format: "attached %d pods × %d NICs in %.1f s", record.pods.count, nics, Date().timeIntervalSince(start)))
    }

    /// Runs `multi-nic` for one pod; returns its stdout, or throws its CNI error.
    static func run(_ command: String, host: LabRecord.Host, namespace: String, pod: String, containerID: String,
                    config: String, binaries: LabBinaries) throws(LabError) -> String {
        let environment = ["CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": "/var/run/netns/\(namespace)",
                           "CNI_IFNAME": "net1", "CNI_PATH": binaries.cniPath,
                           "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=\(pod);K8S_POD_UID=\(containerID)",
                           "MULTINIC_SOCKET": host.socket, "MULTINIC_CNI_STATE_DIR": host.cniStateDirectory,
                           "MULTINIC_CNI_LOG": host.directory + "/multi-nic-cni.log", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
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
            lines.append("  pod \(pod.name) on \(pod.host): " + pod.addresses.enumerated().map { "net1-\($0.offset) \($0.element)" }
                .joined(separator: ", "))
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
