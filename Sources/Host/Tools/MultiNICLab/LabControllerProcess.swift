import Foundation
import MultiNICController
import MultiNICCore
import MultiNICDaemonClient
import MultiNICPluginHost
import MultiNICRender
import Synchronization

/// The lab's controller as a process of its own (`multinicctl lab controller`), so that `lab chaos` can SIGKILL it:
/// the reconcilers on the lab's embedded store, the leak sweep against the lab's pods (those `lab up` attached and
/// those in the chaos pods file), and a restarted daemon told so as soon as it answers again.
public enum LabControllerLoop {
    /// Runs until the process is killed.
    public static func run(name: String, root: String, binaries: LabBinaries, podsFile: String, sweepSeconds: Int) async throws(LabError) {
        let record = try LabRecord.load(directory: root + "/" + name)
        let store: EmbeddedStore
        do {
            store = try EmbeddedStore(directory: record.directory + "/store")
        } catch {
            throw LabError("controller store: \(error)")
        }
        let loaded = PluginRegistry.load(directory: binaries.plugins)
        var config = ConfigSpec()
        if record.dra == true { config.daemon.draDriver = LabDRA.driver }
        let sockets = Dictionary(uniqueKeysWithValues: record.hosts.map { ($0.node, $0.socket) })
        let controller = MultiNICController(store: store, fleet: LabFleet(sockets: sockets),
                                            renderer: NetworkRenderer(registry: loaded.registry, config: config), hostPeriod: .seconds(2),
                                            pods: LabPodDirectory(directory: record.directory, podsFile: podsFile),
                                            sweepPeriod: .seconds(Int64(max(1, sweepSeconds))))
        let running = Task { await controller.run(workers: 4) }
        defer { running.cancel() }
        // A daemon with a new PID in lab.json (restarted: as a new daemon pod would be seen) gets its pools and routes
        // again once it answers; so does one that stopped answering and answers again.
        var served: [String: Int32] = [:]
        while true {
            let hosts = (try? LabRecord.load(directory: record.directory))?.hosts ?? record.hosts
            for host in hosts.sorted(by: { $0.node < $1.node }) {
                let pid = host.daemonPID ?? 0
                let up = (try? DaemonClient(socketPath: host.socket, timeoutSeconds: 1).status()) != nil
                if up && served[host.node] != pid {
                    await controller.daemonStarted(host.node)
                    served[host.node] = pid
                } else if !up {
                    served[host.node] = nil
                }
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}

/// The lab's pods for the leak sweep: `lab up`'s (lab.json) and the chaos run's (its pods file), each pod's UID its
/// container ID.
struct LabPodDirectory: PodDirectory {
    let directory: String
    let podsFile: String

    func pods() -> [(node: String, name: String, uid: String)] {
        let attached = ((try? LabRecord.load(directory: directory))?.pods ?? []).map { ($0.host, $0.name, $0.containerID) }
        let churned = (FileManager.default.contents(atPath: podsFile).flatMap { try? JSONDecoder().decode([ChurnState.Pod].self, from: $0) } ?? [])
            .map { ($0.node, $0.name, $0.containerID) }
        return attached + churned
    }

    func podUIDs(onNode node: String) async throws -> Set<String> { Set(pods().filter { $0.node == node }.map(\.uid)) }

    func podUID(namespace: String, name: String) async throws -> String? {
        namespace == "default" ? pods().first { $0.name == name }?.uid : nil
    }
}

/// The controller process of a chaos run.
final class LabControllerProcess: Sendable {
    let record: LabRecord
    let binaries: LabBinaries
    let podsFile: String
    let sweepSeconds: Int
    private let running = Mutex<Int32?>(nil)

    /// The running controller's PID.
    var pid: Int32? { running.withLock { $0 } }

    init(record: LabRecord, binaries: LabBinaries, podsFile: String, sweepSeconds: Int) {
        self.record = record
        self.binaries = binaries
        self.podsFile = podsFile
        self.sweepSeconds = sweepSeconds
    }

    func start() throws(LabError) {
        let root = (record.directory as NSString).deletingLastPathComponent
        let process = try LabShell.spawn("the lab's controller", in: record.fabric,
                                         [binaries.directory + "/multinicctl", "lab", "controller", "--name", record.name, "--state-dir", root,
                                          "--bin-dir", binaries.directory, "--plugins-dir", binaries.plugins, "--pods-file", podsFile,
                                          "--sweep-seconds", String(sweepSeconds)], log: record.directory + "/controller.log")
        running.withLock { $0 = process.processIdentifier }
    }

    func kill() {
        guard let pid = running.withLock({ $0 }), pid > 1 else { return }
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        running.withLock { $0 = nil }
    }
}
