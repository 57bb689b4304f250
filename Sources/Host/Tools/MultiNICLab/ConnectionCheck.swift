import Foundation
import MultiNICController
import MultiNICCore

/// `concheck`: reachability (ping) and bandwidth (iperf3) for every ordered pair of pods on different hosts and
/// every NIC, printed as upstream's table.
public enum ConnectionCheck {
    public struct Options: Sendable {
        public var seconds = 2.0
        public var parallel = 1
        public init() {}
    }

    public static func run(_ record: LabRecord, options: Options) async throws(LabError) -> [ConnectionResult] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/iperf3") else {
            throw LabError("iperf3 is missing: install Debian's iperf3")
        }
        // One iperf3 server per pod and NIC, bound to that NIC's address (port 5201 + NIC).
        var servers: [Process] = []
        defer {
            // nsenter execs iperf3, so the process is the server itself.
            for server in servers { kill(server.processIdentifier, SIGKILL) }
            for server in servers { server.waitUntilExit() }
        }
        for pod in record.pods {
            for (nic, address) in pod.addresses.enumerated() where !address.isEmpty {
                let server = Process()
                server.executableURL = URL(fileURLWithPath: LabShell.nsenter)
                server.arguments = ["--net=/var/run/netns/\(pod.namespace)", "/usr/bin/iperf3", "-s", "-B", address, "-p", "\(5201 + nic)"]
                server.standardOutput = FileHandle.nullDevice
                server.standardError = FileHandle.nullDevice
                try? server.run()
                servers.append(server)
            }
        }
        usleep(300_000)
        var pairs: [(LabRecord.Pod, LabRecord.Pod)] = []
        // Pods on different hosts with the same NICs (by host NIC name where known: in DRA mode a pod has the NICs
        // it claimed, and pods with other NICs share no network with it).
        for source in record.pods {
            for destination in record.pods where destination.host != source.host
                && (source.masters == nil || destination.masters == nil || Set(source.masters ?? []) == Set(destination.masters ?? [])) {
                pairs.append((source, destination))
            }
        }
        // Pairs run `parallel` at a time; each destination pod serves one client at a time.
        let results = Locked([Int: ConnectionResult]())
        let allPairs = pairs
        let byDestination = Dictionary(grouping: pairs.indices, by: { pairs[$0].1.name })
        let groups = byDestination.keys.sorted().map { byDestination[$0] ?? [] }
        let seconds = options.seconds
        await withTaskGroup(of: Void.self) { group in
            var next = 0
            func launch() {
                guard next < groups.count else { return }
                let indices = groups[next]
                next += 1
                group.addTask {
                    for index in indices {
                        let result = measure(allPairs[index].0, allPairs[index].1, seconds: seconds)
                        results.update { $0[index] = result }
                    }
                }
            }
            for _ in 0..<max(1, options.parallel) { launch() }
            while await group.next() != nil { launch() }
        }
        let measured = results.value
        return pairs.indices.compactMap { measured[$0] }
    }

    /// A lab with GPUs: a heading and one row per pod (its GPU, the NIC of its first interface, whether they share a
    /// PCIe switch), the first row the column names; nil in a lab without GPUs.
    public static func gpuAlignment(_ record: LabRecord) -> (heading: String, rows: [[String]])? {
        let pods = record.pods.filter { $0.gpu != nil }
        guard !pods.isEmpty else { return nil }
        var rows = [["POD", "GPU", "FIRST NIC", "PLACE"]]
        var aligned = 0
        for pod in pods {
            let host = record.hosts.first { $0.node == pod.host }
            let hardware = LabHardware.lab(nics: host?.nics.count ?? 0, gpus: host?.gpus ?? 0)
            let gpuPort = hardware.devices.first { $0.address == pod.gpu }?.path.dropLast().last
            let master = pod.masters?.first ?? "?"
            let nicPort = hardware.devices.first { $0.kind == .nic(interface: master) }?.path.dropLast().last
            let shares = gpuPort != nil && gpuPort == nicPort
            if shares { aligned += 1 }
            rows.append([pod.name, pod.gpu ?? "-", master, shares ? "behind the GPU's PCIe switch" : "not near the GPU"])
        }
        return ("## GPU alignment: \(aligned)/\(pods.count) pods' first NIC behind their GPU's PCIe switch", rows)
    }

    static func measure(_ source: LabRecord.Pod, _ destination: LabRecord.Pod, seconds: Double) -> ConnectionResult {
        var bandwidths: [Double?] = []
        for (nic, address) in destination.addresses.enumerated() {
            // The source's interface on the same host NIC's network (the same position when the NICs are unknown).
            let position = destination.masters.flatMap { masters in
                nic < masters.count ? source.masters?.firstIndex(of: masters[nic]) : nil
            } ?? nic
            let own = position < source.addresses.count ? source.addresses[position] : ""
            guard !address.isEmpty, !own.isEmpty else {
                bandwidths.append(nil)
                continue
            }
            let ping = try? LabShell.inNamespace(source.namespace, ["/usr/bin/ping", "-c", "1", "-W", "1", "-I", own, address])
            guard ping?.status == 0 else {
                bandwidths.append(nil)
                continue
            }
            // iperf3 takes whole seconds (0 would mean "forever"); `timeout` bounds a client that hangs.
            let whole = max(1, Int(seconds.rounded()))
            let iperf = try? LabShell.inNamespace(source.namespace, ["/usr/bin/timeout", "\(whole + 10)", "/usr/bin/iperf3",
                                                                     "-c", address, "-B", own, "-p", "\(5201 + nic)",
                                                                     "-t", "\(whole)", "-J", "--connect-timeout", "2000"])
            bandwidths.append(iperf.flatMap { ConnectionReport.receivedBitsPerSecond(iperfJSON: $0.output) })
        }
        return ConnectionResult(from: source.name, to: destination.name, fromHost: source.host, toHost: destination.host,
                                addresses: destination.addresses, bandwidths: bandwidths)
    }
}
