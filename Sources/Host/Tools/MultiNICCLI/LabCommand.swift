import ArgumentParser
import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKubelet
import MultiNICLab

/// `--name`, `--state-dir`, binaries: what every lab subcommand needs.
struct LabLocation: ParsableArguments {
    @Option(help: "The lab's name (namespaces are mnlab-<name>-…).") var name = "lab"
    @Option(help: "Where labs record what they created.") var stateDir = "/run/multinic-lab"
    @Option(help: "Directory with multi-nicd and multi-nic (default: next to multinicctl).") var binDir: String?
    @Option(help: "Plugins directory (default: plugins.d in the binaries' directory).") var pluginsDir: String?

    var binaries: LabBinaries {
        LabBinaries(directory: binDir ?? LabBinaries.executableDirectory, plugins: pluginsDir)
    }
}

/// A subcommand whose work is asynchronous (the lab, concheck); the executable awaits ``runAsync()``.
public protocol AsyncCommand: ParsableCommand {
    func runAsync() async throws
}

/// Prints a progress line to stderr as it happens.
@Sendable func printProgress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `multinicctl lab …`: a whole multi-NIC cluster in network namespaces on this machine.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab", abstract: "Run a multi-NIC cluster in network namespaces (needs root).",
        subcommands: [Up.self, Status.self, Down.self, Break.self, Heal.self, Alerts.self, Chaos.self, Kubelet.self, APIServer.self,
                      Controller.self, Ping.self])

    struct Up: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build hosts, NICs and daemons, run the controller until the network converged, attach pods.")
        @OptionGroup var network: NetworkFileOptions
        @OptionGroup var location: LabLocation
        @Option(help: "Hosts.") var hosts = 3
        @Option(help: "Secondary NICs per host.") var nics = 2
        @Option(help: "Pods per host.") var podsPerHost = 1
        @Option(help: "GPUs per host on a fake PCIe tree, GPU k behind NIC eth<k+1>'s switch; a stand-in kubelet gives each pod one GPU and the policy becomes topology.")
        var gpusPerHost = 0
        @Flag(help: "Run Debian's Prometheus in the lab, scraping every daemon with deploy/monitoring's alert rules.")
        var prometheus = false
        @Flag(help: "DRA mode: daemons publish ResourceSlices to a stand-in API server; each pod gets a ResourceClaim for its NICs (with --gpus-per-host: one GPU and a NIC on its PCIe root), which the lab allocates, prepares and attaches.")
        var dra = false
        @Option(help: "Alert rules for --prometheus (default: deploy/monitoring/alerts.yaml of the checkout).") var alertRules: String?

        func runAsync() async throws {
            var output = CommandOutput()
            let loaded: MultiNicNetwork
            do {
                loaded = try network.load(into: &output)
            } catch let failure as CommandFailure {
                output.note(failure.message)
                output.emit()
                throw ExitCode(1)
            }
            output.emit()
            var options = LabOptions()
            options.name = location.name
            options.root = location.stateDir
            options.hosts = hosts
            options.nics = nics
            options.podsPerHost = podsPerHost
            options.binaries = location.binaries
            options.gpusPerHost = gpusPerHost
            options.dra = dra
            if prometheus {
                guard let rules = alertRules ?? LabPrometheus.defaultRules(binaries: options.binaries.directory) else {
                    printProgress("error: --prometheus needs --alert-rules (no deploy/monitoring/alerts.yaml found near the binaries)")
                    throw ExitCode(1)
                }
                options.prometheusRules = rules
            }
            let start = ContinuousClock.now
            do {
                let record = try await Lab.up(loaded, options: options, progress: printProgress)
                print(try await Lab.status(name: record.name, root: options.root))
                printProgress("lab \(record.name) is up in \(LabCommand.seconds(ContinuousClock.now - start)); "
                              + "check it: multinicctl concheck --lab \(record.name); remove it: multinicctl lab down --name \(record.name)")
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `3.1 s`.
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    struct Status: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(abstract: "Hosts, NICs, pods, addresses and route state.")
        @OptionGroup var location: LabLocation

        func runAsync() async throws {
            do {
                print(try await Lab.status(name: location.name, root: location.stateDir))
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Down: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove everything the lab created (also after a crash).")
        @OptionGroup var location: LabLocation

        func run() throws {
            let removed = Lab.down(name: location.name, root: location.stateDir)
            printProgress("lab \(location.name) removed: \(removed.count) namespaces" + (removed.isEmpty ? "" : " (\(removed.joined(separator: ", ")))"))
        }
    }

    struct Break: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            commandName: "break", abstract: "Unplug a host's NIC (all its NICs without --nic) and show how the network reports it.")
        @OptionGroup var location: LabLocation
        @Option(help: "Host index (0-based).") var host: Int
        @Option(help: "NIC number (1-based, eth<N>).") var nic: Int?

        func runAsync() async throws {
            do {
                let status = try await Lab.breakLink(name: location.name, root: location.stateDir, host: host, nic: nic,
                                                     binaries: location.binaries, progress: printProgress)
                print("routeStatus \(status.routeStatus.rawValue)" + (status.message.isEmpty ? "" : ": \(status.message)"))
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Heal: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(abstract: "Plug every unplugged NIC back in.")
        @OptionGroup var location: LabLocation

        func runAsync() async throws {
            do {
                let status = try await Lab.heal(name: location.name, root: location.stateDir, binaries: location.binaries,
                                                progress: printProgress)
                print("routeStatus \(status.routeStatus.rawValue)" + (status.message.isEmpty ? "" : ": \(status.message)"))
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pending and firing alerts of a lab started with --prometheus.")
        @OptionGroup var location: LabLocation

        func run() throws {
            do {
                let alerts = try LabPrometheus.alerts(name: location.name, root: location.stateDir)
                print(alerts.isEmpty ? "no alerts" : alerts.map(\.description).joined(separator: "\n"))
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    struct Chaos: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pod churn under a seeded schedule of faults on a running lab; exits non-zero on any violated invariant.")
        @OptionGroup var location: LabLocation
        @Option(help: "How long the schedule runs (e.g. 60s, 10m).") var duration = "60s"
        @Option(help: "The schedule's seed (the same seed, the same faults at the same moments).") var seed: UInt64?
        @Option(help: "Faults per second, on average.") var rate = 0.2
        @Option(help: "Pods per host the churn keeps at most.") var maxPods = 3

        func runAsync() async throws {
            var options = LabChaos.Options()
            guard let seconds = LabCommand.parseDuration(duration), seconds >= 2, seconds <= 86_400 else {
                printProgress("error: --duration must be 2s…24h (e.g. 60s, 10m)")
                throw ExitCode(1)
            }
            guard rate >= 0, rate <= 20, (1...32).contains(maxPods) else {
                printProgress("error: --rate must be 0…20 and --max-pods 1…32")
                throw ExitCode(1)
            }
            options.seconds = seconds
            options.rate = rate
            options.maxPodsPerHost = maxPods
            if let seed { options.seed = seed }
            do {
                let report = try await LabChaos.run(name: location.name, root: location.stateDir, binaries: location.binaries,
                                                    options: options, progress: printProgress)
                print(report.text)
                if !report.passed { throw ExitCode(1) }
            } catch let error as LabError {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// `30s`, `10m`, `1h`, or plain seconds.
    static func parseDuration(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        if let last = text.last, let unit = units[last] { return Double(text.dropLast()).map { $0 * unit } }
        return Double(text)
    }

    /// The lab's controller as its own process (`lab chaos` runs it, and kills it).
    struct Controller: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(abstract: "Run the lab's controller until killed (lab chaos starts it).",
                                                        shouldDisplay: false)
        @OptionGroup var location: LabLocation
        @Option(help: "The chaos run's pods (JSON), for the leak sweep.") var podsFile: String
        @Option(help: "Leak-sweep period.") var sweepSeconds = 5

        func runAsync() async throws {
            try await LabControllerLoop.run(name: location.name, root: location.stateDir, binaries: location.binaries,
                                            podsFile: podsFile, sweepSeconds: sweepSeconds)
        }
    }

    /// One ICMP echo from an address to many (the chaos run's ping mesh runs it in each pod's namespace).
    struct Ping: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ping IPv4 targets from a source address at once; print the ones that did not answer.", shouldDisplay: false)
        @Option(help: "The source address (one of this namespace's).") var from: String
        @Option(help: "Seconds to wait for the replies.") var deadline = 3.0
        @Argument(help: "Target addresses.") var targets: [String] = []

        func run() throws {
            guard deadline > 0, deadline <= 60 else {
                printProgress("error: --deadline must be in (0, 60]")
                throw ExitCode(1)
            }
            do {
                for target in try LabPinger.unreachable(from: from, targets: targets, deadlineSeconds: deadline) { print(target) }
            } catch {
                printProgress("error: \(error)")
                throw ExitCode(1)
            }
        }
    }

    /// The lab's stand-in API server (DRA mode): objects in memory over HTTP, on TCP for the daemons and a unix socket.
    struct APIServer: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            commandName: "apiserver",
            abstract: "Serve the lab's stand-in Kubernetes API (the lab starts one in DRA mode).", shouldDisplay: false)
        @Option(help: "HOST:PORT to listen on.") var listen: String
        @Option(help: "A unix socket to listen on as well.") var socket: String

        func runAsync() async throws {
            let parts = listen.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                printProgress("error: --listen must be HOST:PORT")
                throw ExitCode(1)
            }
            printProgress("lab API server on \(listen) and \(socket)")
            try await LabAPIServer.serve(host: String(parts[0]), port: port, socket: socket)
        }
    }

    /// The lab's stand-in kubelet: PodResources on a unix socket, answering from a JSON file of pods and devices.
    struct Kubelet: ParsableCommand, AsyncCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the kubelet's PodResources API from a pods file (the lab starts one per host with GPUs).",
            shouldDisplay: false)
        @Option(help: "The unix socket to listen on.") var socket: String
        @Option(help: "A JSON list of pods with their devices, read at every call.") var podsFile: String

        func runAsync() async throws {
            #if canImport(GRPCCore)
            let server = PodResourcesServer(socketPath: socket, podsFile: podsFile)
            try await server.start()
            printProgress("PodResources on \(socket) from \(podsFile)")
            while true { try await Task.sleep(for: .seconds(3600)) }
            #else
            printProgress("error: this multinicctl was built without gRPC (MULTINIC_WITHOUT_GRPC=1); build it again without that")
            throw ExitCode(1)
            #endif
        }
    }
}
