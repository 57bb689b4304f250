import ArgumentParser
import Foundation
import MultiNICCore
import MultiNICKube
import MultiNICManifests
import MultiNICTakeover

/// `multinicctl takeover …`: move a cluster running the original Multi-NIC CNI (v1.3.x) to MultiNIC in place.
struct TakeoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "takeover", abstract: "Take over a cluster running Multi-NIC CNI v1.3.x (multinic.fms.io) without disrupting its pods.",
        subcommands: [Plan.self, Apply.self, Rollback.self])

    /// `takeover plan`: read-only; what MultiNIC will own, and the conflicts in the way.
    struct Plan: ParsableCommand, AsyncCommand, OutputProducing {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "Print, per network, what MultiNIC will own and every conflict; exit 1 when one would lose or duplicate an address.",
            discussion: """
                Reads the original's objects from the cluster (kubeconfig or in-cluster), or from --from-file: the output of
                `kubectl get multinicnetworks.multinic.fms.io,cidrs.multinic.fms.io,ippools.multinic.fms.io,\
                hostinterfaces.multinic.fms.io,network-attachment-definitions,nodes -A -o yaml` (plus the controller
                Deployment and the multi-nicd DaemonSet when present). Changes nothing.
                """)
        @OptionGroup var access: ClusterAccess
        @Option(name: .customLong("from-file"), help: "Objects to plan from instead of a cluster (YAML or JSON, a List or documents).")
        var fromFile: String?
        @Option(help: "MultiNIC's namespace (where deploy/ installs it and its operator applies the multi-nicd DaemonSet).")
        var namespace = LegacyCluster.shippedNamespace

        func execute() -> CommandOutput {
            guard let fromFile else {
                return CommandOutput(stderr: "takeover plan: reading a cluster needs the multinicctl executable (or use --from-file)\n", exitCode: 2)
            }
            do {
                let documents = try ManifestLoader.load(path: fromFile)
                var cluster = try LegacyCluster(objects: documents.map(\.json))
                cluster.multinicNamespace = namespace
                return Self.output(for: cluster)
            } catch {
                return CommandOutput(stderr: "takeover plan: \(error)\n", exitCode: 1)
            }
        }

        func runAsync() async throws {
            let output: CommandOutput
            if fromFile != nil {
                output = execute()
            } else {
                do {
                    var cluster = try await LegacyClusterReader.read(KubeClient(config: try access.config()))
                    cluster.multinicNamespace = namespace
                    output = Self.output(for: cluster)
                } catch {
                    output = CommandOutput(stderr: "takeover plan: \(error)\n", exitCode: 1)
                }
            }
            output.emit()
            if output.exitCode != 0 { throw ExitCode(output.exitCode) }
        }

        /// The plan's text; exit 1 with a summary on stderr when a conflict would lose or duplicate an address.
        static func output(for cluster: LegacyCluster) -> CommandOutput {
            let plan = TakeoverPlanner.plan(cluster)
            var output = CommandOutput(stdout: plan.text)
            let blocking = plan.blocking.count
            if blocking > 0 {
                output.note("takeover plan: \(blocking) conflict\(blocking == 1 ? "" : "s") would lose or duplicate an address; resolve "
                            + "\(blocking == 1 ? "it" : "them") before `takeover apply`")
                output.exitCode = 1
            }
            return output
        }
    }
}
