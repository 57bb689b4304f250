import ArgumentParser
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICOperator
import MultiNICKube

/// `--kubeconfig`, `--context`: how a command reaches the cluster (in-cluster when run in a pod).
struct ClusterAccess: ParsableArguments {
    @Option(help: "kubeconfig file (default: in-cluster when in a pod, else $KUBECONFIG or ~/.kube/config).") var kubeconfig: String?
    @Option(help: "kubeconfig context (default: the current one).") var context: String?

    func config() throws(KubeError) -> KubeConfig {
        if kubeconfig == nil && ProcessInfo.processInfo.environment["KUBERNETES_SERVICE_HOST"] != nil { return try KubeConfig.inCluster() }
        return try KubeConfig.kubeconfig(path: kubeconfig, context: context)
    }
}

/// `multinicctl status`: like `kubectl get` for MultiNIC — networks, hosts, pools and route state of a cluster.
struct StatusCommand: ParsableCommand, AsyncCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Networks, hosts, pools and route state of a cluster (kubeconfig or in-cluster).")
    @OptionGroup var access: ClusterAccess

    func runAsync() async throws {
        do {
            print(try await Self.report(KubernetesStore(client: KubeClient(config: try access.config()))))
        } catch {
            printProgress("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// The report, from any store.
    static func report(_ store: any ResourceStore) async throws(StoreError) -> String {
        let networks = try await store.list(MultiNicNetworkSpec.self)
        let hosts = try await store.list(HostInterfaceSpec.self)
        let pools = try await store.list(IPPoolSpec.self)
        var lines = [table([["NETWORK", "SUBNET", "PLUGIN", "CONFIG", "ROUTES", "HOSTS", "POOLS", "ALLOCATED", "MESSAGE"]]
            + networks.map { network in
                let own = pools.filter { $0.spec.netAttachDef == network.name }
                return [network.name, network.spec.subnet.isEmpty ? "(host subnets)" : network.spec.subnet, network.spec.plugin.type,
                        network.status?.configStatus.rawValue ?? "-", network.status?.routeStatus.rawValue ?? "-",
                        String(network.status?.discovery.cidrProcessed ?? 0), String(own.count),
                        String(own.reduce(0) { $0 + $1.spec.allocations.count }), network.status?.message ?? ""]
            })]
        lines.append("")
        lines.append(table([["HOST", "NICS"]] + hosts.map { host in
            [host.spec.hostName, host.spec.interfaces.map { "\($0.interfaceName) \($0.netAddress)" }.joined(separator: ", ")]
        }))
        return lines.joined(separator: "\n")
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0) }
                .joined().trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
