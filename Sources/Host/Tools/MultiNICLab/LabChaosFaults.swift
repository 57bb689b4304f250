import Foundation
import MultiNICCore
import MultiNICDaemonClient

/// The faults `lab chaos` injects: each is applied, then undone (a daemon or the controller restarted, a NIC
/// plugged back, a filled pool emptied) — a deleted route table is left for the daemon to repair.
enum ChaosFault: Sendable, Hashable, CustomStringConvertible {
    /// SIGKILL of a host's multi-nicd, restarted after a pause.
    case killDaemon(host: Int)
    /// SIGKILL of a host's multi-nicd a few milliseconds into an ADD on it, then restarted.
    case killDaemonMidAdd(host: Int)
    /// SIGKILL of the lab's controller, restarted after a pause.
    case killController
    /// A NIC's cable pulled at the fabric, plugged back later.
    case unplug(host: Int, nic: Int)
    /// The network's route table and rules deleted on a host (the daemon must notice and put them back).
    case deleteRoutes(host: Int)
    /// Every free address of one of a host's pools taken by a stranger, given back later.
    case fillPool(host: Int)
    /// The disk of a host's journal is full for a while (ENOSPC on every write).
    case fillJournalDisk(host: Int)
    /// The delegate plugins of a host hang (its pods on the delegate path): multi-nic kills them at its deadline.
    case hangDelegate(host: Int)

    var description: String {
        switch self {
        case .killDaemon(let host): "SIGKILL multi-nicd of host \(host), restart"
        case .killDaemonMidAdd(let host): "SIGKILL multi-nicd of host \(host) during an ADD, restart"
        case .killController: "SIGKILL the controller, restart"
        case .unplug(let host, let nic): "unplug eth\(nic) of host \(host)"
        case .deleteRoutes(let host): "delete the route tables and rules of host \(host)"
        case .fillPool(let host): "fill a pool of host \(host)"
        case .hangDelegate(let host): "hang the delegate plugins of host \(host)"
        case .fillJournalDisk(let host): "fill the journal disk of host \(host)"
        }
    }

    /// The seeded schedule: a fault every `1 / rate` seconds on average (exponential gaps), from the first second to
    /// the last but one.
    static func schedule(seed: UInt64, seconds: Double, rate: Double, hosts: Int, nics: Int) -> [(at: Double, fault: ChaosFault)] {
        var random = ChaosRandom(seed: seed)
        var events: [(at: Double, fault: ChaosFault)] = []
        var time = 1.0
        while rate > 0 {
            time += -log(1 - Double.random(in: 0..<1, using: &random)) / rate
            guard time < seconds - 1 else { break }
            let host = Int.random(in: 0..<hosts, using: &random)
            let fault: ChaosFault = switch Int.random(in: 0..<8, using: &random) {
            case 0: .killDaemon(host: host)
            case 1: .killDaemonMidAdd(host: host)
            case 2: .killController
            case 3: .unplug(host: host, nic: Int.random(in: 1...max(1, nics), using: &random))
            case 4: .deleteRoutes(host: host)
            case 5: .hangDelegate(host: host)
            case 6: .fillJournalDisk(host: host)
            default: .fillPool(host: host)
            }
            events.append((time, fault))
        }
        return events
    }
}

/// Applying and undoing faults on a running lab.
struct ChaosInjector: Sendable {
    let record: LabRecord
    let binaries: LabBinaries
    let churn: LabChurn
    let controller: LabControllerProcess
    /// Who holds a filled pool's addresses.
    static let stranger = "chaos-filler"

    /// Applies `fault`, waits `hold` seconds, undoes it. Returns a note of what happened.
    func run(_ fault: ChaosFault, hold: Double) throws(LabError) -> String {
        switch fault {
        case .killDaemon(let host):
            kill(daemon: host)
            usleep(UInt32(hold * 1e6))
            return try restart(daemon: host)
        case .killDaemonMidAdd(let host):
            let adding = Thread { _ = churn.add(host: host) }
            adding.start()
            usleep(UInt32.random(in: 2_000...30_000))
            kill(daemon: host)
            usleep(UInt32(hold * 1e6))
            return try restart(daemon: host)
        case .killController:
            controller.kill()
            usleep(UInt32(hold * 1e6))
            try controller.start()
            return "controller restarted"
        case .unplug(let host, let nic):
            guard let port = record.hosts[host].nics.first(where: { $0.name == "eth\(nic)" })?.fabricPort else { return "no eth\(nic)" }
            try LabShell.ip("-n", record.fabric, "link", "set", port, "down")
            usleep(UInt32(hold * 1e6))
            try LabShell.ip("-n", record.fabric, "link", "set", port, "up")
            return "plugged back after \(String(format: "%.1f", hold)) s"
        case .deleteRoutes(let host):
            return try deleteRoutes(host: host)
        case .hangDelegate(let host):
            do {
                try FileManager.default.createDirectory(atPath: churn.hangDirectory, withIntermediateDirectories: true)
                try "#!/bin/sh\nexec sleep 600\n".write(toFile: churn.hangDirectory + "/macvlan", atomically: true, encoding: .utf8)
                chmod(churn.hangDirectory + "/macvlan", 0o755)
            } catch {
                throw LabError("cannot write the hanging delegate: \(error)")
            }
            // Longer than the delegate deadline, so that calls in the window run into it.
            let window = hold + Double(LabChurn.delegateTimeoutSeconds) + 1
            churn.state.state.withLock { _ = $0.hung.insert(host) }
            usleep(UInt32(window * 1e6))
            churn.state.state.withLock { _ = $0.hung.remove(host) }
            return String(format: "hung for %.1f s", window)
        case .fillJournalDisk(let host):
            let written = LabJournalDisk.fill(record.hosts[host])
            // Long enough for the host's churn to meet it a few times.
            let window = hold + 3
            usleep(UInt32(window * 1e6))
            LabJournalDisk.empty(record.hosts[host])
            return String(format: "%.1f MiB written until ENOSPC, held %.1f s", Double(written) / 1_048_576, window)
        case .fillPool(let host):
            let taken = fill(host: host)
            usleep(UInt32(hold * 1e6))
            empty(host: host, taken: taken)
            return "\(taken) addresses held for \(String(format: "%.1f", hold)) s"
        }
    }

    func kill(daemon host: Int) {
        guard let pid = currentPID(host), pid > 1 else { return }
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
    }

    /// The host's daemon PID as last started (the record on disk is updated at every restart).
    func currentPID(_ host: Int) -> Int32? {
        (try? LabRecord.load(directory: record.directory))?.hosts[host].daemonPID
    }

    func restart(daemon host: Int) throws(LabError) -> String {
        var current = try LabRecord.load(directory: record.directory)
        var item = current.hosts[host]
        try LabTopology.startDaemon(&item, binaries: binaries,
                                    extra: current.dra == true ? try LabDRA.daemonArguments(item, record: current) : [])
        current.hosts[host] = item
        try current.save()
        return "multi-nicd of host \(host) restarted (pid \(item.daemonPID ?? 0))"
    }

    /// Deletes the rules that point at MultiNIC's tables and flushes those tables.
    func deleteRoutes(host: Int) throws(LabError) -> String {
        let namespace = record.hosts[host].namespace
        let rules = (try? LabShell.ip("-n", namespace, "rule", "show")) ?? ""
        var tables = Set<String>()
        for line in rules.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let at = fields.firstIndex(of: "lookup"), at + 1 < fields.count,
                  !["main", "local", "default"].contains(fields[at + 1]) else { continue }
            tables.insert(fields[at + 1])
            let rule = fields.dropFirst().filter { !$0.isEmpty && $0 != "lookup" && $0 != fields[at + 1] }
            _ = try? LabShell.run(LabShell.ip, ["-n", namespace, "rule", "del"] + Array(rule) + ["lookup", fields[at + 1]])
        }
        for table in tables.sorted() { _ = try? LabShell.run(LabShell.ip, ["-n", namespace, "route", "flush", "table", table]) }
        return tables.isEmpty ? "no MultiNIC tables found" : "tables \(tables.sorted().joined(separator: ", ")) deleted"
    }

    /// Takes every free address of the host's first pool through upstream's `/allocate`, one container each (no pod
    /// UID: the leak sweep leaves them).
    func fill(host: Int) -> Int {
        let client = DaemonClient(socketPath: record.hosts[host].socket, timeoutSeconds: 5)
        guard let pool = (try? client.status())?.pools.first(where: { $0.network == record.network }) else { return 0 }
        var taken = 0
        while taken < 4096, let got = try? client.allocate(request(host: host, taken, masters: [pool.interface])), !got.isEmpty {
            taken += 1
        }
        return taken
    }

    /// Gives the stranger's addresses back (retried while the daemon is away).
    func empty(host: Int, taken: Int) {
        let client = DaemonClient(socketPath: record.hosts[host].socket, timeoutSeconds: 5)
        for index in 0...taken {
            for _ in 0..<20 {
                if (try? client.deallocate(request(host: host, index, masters: nil))) != nil { break }
                usleep(250_000)
            }
        }
    }

    func request(host: Int, _ index: Int, masters: [String]?) -> AllocateRequest {
        AllocateRequest(pod: Self.stranger, namespace: "default", host: record.hosts[host].node, def: record.network, masters: masters,
                        containerID: "\(Self.stranger)-\(index)")
    }
}
