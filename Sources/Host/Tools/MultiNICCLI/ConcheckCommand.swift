import ArgumentParser
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
import MultiNICKube
import MultiNICLab

/// `multinicctl concheck`: every ordered pair of hosts (lab pods, or with `--cluster` pods the check starts on a
/// real cluster, as the `multi-nic-concheck` Job does), every NIC: upstream's table and a summary.
struct ConcheckCommand: ParsableCommand, AsyncCommand {
    static let configuration = CommandConfiguration(
        commandName: "concheck", abstract: "Check pod-to-pod connectivity and bandwidth on every NIC of a lab or (--cluster) a cluster.")
    @Option(help: "The lab's name.") var lab = "lab"
    @Option(help: "Where labs record what they created.") var stateDir = "/run/multinic-lab"
    @Option(help: "iperf3 duration per path, e.g. 2s (default: 2s in a lab, 5s on a cluster).") var duration: String?
    @Option(help: "Lab: pairs measured at once.") var parallel = 1
    @Option(help: "Write a host × host bandwidth picture (one panel per NIC): .svg or .png.") var heatmap: String?
    @Flag(help: "Check a cluster: server and client pods on every host of each network.") var cluster = false
    @OptionGroup var access: ClusterAccess
    @Option(help: "Cluster: the network to check (repeatable; default: every MultiNicNetwork).") var network: [String] = []
    @Option(help: "Cluster: namespace of the check's pods (the networks' NADs must be there).") var namespace = "default"
    @Option(help: "Cluster: image with iperf3 and multinicctl (default: $CONCHECK_IMAGE, else the operator image).") var image: String?
    @Option(help: "Cluster: seconds a server pod may take to run with its addresses.") var readyTimeout = 300
    @Flag(help: "Cluster: leave the pods for inspection.") var keepPods = false

    func seconds(default fallback: Int) throws -> Int {
        guard let duration else { return fallback }
        guard let seconds = Int(duration.hasSuffix("s") ? String(duration.dropLast()) : duration), seconds >= 1 else {
            throw LabError("--duration: \(duration) is not a whole number of seconds like 2s (iperf3 measures whole seconds)")
        }
        return seconds
    }

    func runAsync() async throws {
        do {
            var reports: [(network: String, results: [ConnectionResult])] = []
            var alignment: (heading: String, rows: [[String]])?
            if cluster {
                reports = try await checkCluster()
            } else {
                let record = try LabRecord.load(directory: stateDir + "/" + lab)
                alignment = ConnectionCheck.gpuAlignment(record)
                var options = ConnectionCheck.Options()
                options.seconds = Double(try seconds(default: 2))
                options.parallel = max(1, parallel)
                reports = [(record.network, try await ConnectionCheck.run(record, options: options))]
            }
            for report in reports {
                print(ConnectionReport.table(network: report.network, results: report.results))
                print(ConnectionReport.summary(report.results))
                if let alignment { print(([alignment.heading] + CIDRTable.alignColumns(alignment.rows)).joined(separator: "\n")) }
                if let heatmap {
                    let path = reports.count == 1 ? heatmap : heatmap.replacingOccurrences(of: ".", with: "-\(report.network).", options: .backwards)
                    try Heatmap.write(report.results, network: report.network, to: path)
                    printProgress("heatmap written to \(path)")
                }
            }
        } catch {
            printProgress("error: \(error)")
            throw ExitCode(1)
        }
    }

    func checkCluster() async throws -> [(network: String, results: [ConnectionResult])] {
        let client = KubeClient(config: try access.config())
        var options = ClusterConnectionCheck.Options()
        options.namespace = namespace
        options.image = image ?? ProcessInfo.processInfo.environment["CONCHECK_IMAGE"] ?? options.image
        options.seconds = try seconds(default: 5)
        options.readyTimeout = .seconds(readyTimeout)
        options.keepPods = keepPods
        let check = ClusterConnectionCheck(client: client, options: options, progress: printProgress)
        let names = network.isEmpty ? try await client.list(MultiNicNetworkSpec.self, namespace: nil).items.map(\.name).sorted() : network
        guard !names.isEmpty else { throw LabError("no MultiNicNetwork in the cluster") }
        var reports: [(network: String, results: [ConnectionResult])] = []
        for name in names { reports.append((name, try await check.run(network: name))) }
        return reports
    }
}

/// `multinicctl concheck-probe`: what the check's client pods run — iperf3 to each `address:port`, one line each.
struct ConcheckProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concheck-probe", abstract: "Measure each address:port with iperf3 in turn (run by concheck's client pods).",
        shouldDisplay: false)
    @Option(help: "iperf3 seconds per target.") var seconds = 5
    @Argument(help: "address:port targets ([v6]:port for IPv6).") var targets: [String]

    func run() throws {
        for line in ConcheckProbe.run(targets: targets, seconds: seconds) { print(line) }
    }
}
