import ArgumentParser
import MultiNICKube
import MultiNICTakeover

extension TakeoverCommand {
    /// `takeover apply`: the steps of the plan, recorded in the cluster; run it again to resume.
    struct Apply: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Take the original's networks over step by step (resumable: run it again after an interruption).",
            discussion: """
                Stops the original controller, copies its networks, CIDRs, HostInterfaces and IPPools to net.cogadvisor.io
                (every live allocation marked for adoption by its node's MultiNIC daemon), then retires the original
                daemon. MultiNIC's operator and daemons (deploy/) rewrite the NADs and adopt the route tables as they are.
                Refused while `takeover plan` reports a blocking conflict for a chosen network.
                """)
        @OptionGroup var access: ClusterAccess
        @Option(help: "Take over only this network (repeatable; default: every network of the original).") var network: [String] = []
        @Option(help: "MultiNIC's namespace, where the takeover record (ConfigMap multinic-takeover) is kept.")
        var namespace = "multi-nic-cni-operator"

        func runAsync() async throws {
            do {
                let runner = TakeoverRunner(client: KubeClient(config: try access.config()), namespace: namespace)
                let record = try await runner.apply(networks: network.isEmpty ? nil : network, progress: printProgress)
                print("takeover of \(record.networks.joined(separator: ", ")): \(record.steps.map(\.rawValue).joined(separator: ", "))")
            } catch {
                printProgress("takeover apply: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `takeover rollback`: the original back as the record says it was.
    struct Rollback: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            commandName: "rollback", abstract: "Put the original controller and daemon back as the takeover record says they were.")
        @OptionGroup var access: ClusterAccess
        @Option(help: "MultiNIC's namespace, where the takeover record is kept.") var namespace = "multi-nic-cni-operator"

        func runAsync() async throws {
            do {
                let runner = TakeoverRunner(client: KubeClient(config: try access.config()), namespace: namespace)
                _ = try await runner.rollback(progress: printProgress)
            } catch {
                printProgress("takeover rollback: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
