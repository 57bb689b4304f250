import Foundation
import MultiNICCore

/// One ordered pair of pods on different hosts, NIC by NIC.
public struct ConnectionResult: Sendable, Hashable {
    public var from: String
    public var to: String
    public var fromHost: String
    public var toHost: String
    /// The destination's addresses, one per NIC.
    public var addresses: [String]
    /// Measured bits per second per NIC; nil where the NIC did not connect.
    public var bandwidths: [Double?]

    public var connected: Int { bandwidths.compactMap { $0 }.count }

    public init(from: String, to: String, fromHost: String, toHost: String, addresses: [String], bandwidths: [Double?]) {
        self.from = from
        self.to = to
        self.fromHost = fromHost
        self.toHost = toHost
        self.addresses = addresses
        self.bandwidths = bandwidths
    }
}

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
        for source in record.pods {
            for destination in record.pods where destination.host != source.host { pairs.append((source, destination)) }
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

    static func measure(_ source: LabRecord.Pod, _ destination: LabRecord.Pod, seconds: Double) -> ConnectionResult {
        var bandwidths: [Double?] = []
        for (nic, address) in destination.addresses.enumerated() {
            let own = nic < source.addresses.count ? source.addresses[nic] : ""
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
            let json = iperf.flatMap { try? JSONValue.parse($0.output) }?.objectValue
            let received = json?["end"]?.objectValue?["sum_received"]?.objectValue?["bits_per_second"]
            switch received {
            case .double(let value)?: bandwidths.append(value)
            case .integer(let value)?: bandwidths.append(Double(value))
            default: bandwidths.append(nil)
            }
        }
        return ConnectionResult(from: source.name, to: destination.name, fromHost: source.host, toHost: destination.host,
                                addresses: destination.addresses, bandwidths: bandwidths)
    }

    /// iperf3's way of writing a rate: three significant digits, `8.80Gbits/sec`.
    public static func rate(_ bitsPerSecond: Double) -> String {
        let units = [(1e9, "Gbits/sec"), (1e6, "Mbits/sec"), (1e3, "Kbits/sec")]
        let (scale, unit) = units.first { bitsPerSecond >= $0.0 } ?? (1, "bits/sec")
        let value = bitsPerSecond / scale
        let text = value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
        return text + unit
    }

    /// Upstream's table: a banner with the network, then FROM, TO, CONNECTED/TOTAL, IPs, BANDWIDTHs (tab-aligned).
    public static func table(network: String, results: [ConnectionResult]) -> String {
        let header = ["FROM", "TO", "CONNECTED/TOTAL", "IPs", "BANDWIDTHs"]
        let rows = results.map { result -> [String] in
            let rates = result.connected == 0 ? "[]"
                : "[ " + result.bandwidths.map { $0.map(rate) ?? "-" }.joined(separator: " ") + "]"
            return [result.from, result.to, "\(result.connected)/\(result.addresses.count)",
                    "[" + result.addresses.joined(separator: " ") + "]", rates]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 1, withPad: " ", startingAt: 0)
            }.joined().trimmingCharacters(in: .whitespaces)
        }
        let banner = "###########################################"
        return ([banner, "## Connection Check: \(network)", banner, line(header)] + rows.map(line) + [banner]).joined(separator: "\n")
    }

    /// One line: pairs fully connected, NIC paths connected, and the bandwidth spread.
    public static func summary(_ results: [ConnectionResult]) -> String {
        let full = results.filter { $0.connected == $0.addresses.count }.count
        let paths = results.reduce(0) { $0 + $1.connected }
        let total = results.reduce(0) { $0 + $1.addresses.count }
        let rates = results.flatMap { $0.bandwidths.compactMap { $0 } }.sorted()
        let spread = rates.isEmpty ? "no bandwidth measured"
            : "bandwidth min \(rate(rates[0])), median \(rate(rates[rates.count / 2])), max \(rate(rates[rates.count - 1]))"
        return "## Summary: \(full)/\(results.count) pairs fully connected, \(paths)/\(total) NIC paths; \(spread)"
    }
}

