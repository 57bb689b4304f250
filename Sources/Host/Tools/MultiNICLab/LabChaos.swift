import Foundation
import MultiNICCore
import Synchronization

/// `multinicctl lab chaos`: on a running lab, pod churn through the real CNI path while a seeded schedule injects
/// faults (``ChaosFault``), with the invariants of ``ChaosChecks`` checked every second and once the schedule is over.
public enum LabChaos {
    public struct Options: Sendable {
        public var seconds = 60.0
        public var seed: UInt64 = UInt64.random(in: 1...UInt64(UInt32.max))
        /// Faults per second, on average.
        public var rate = 0.2
        public var maxPodsPerHost = 3
        /// The lab controller's leak-sweep period.
        public var sweepSeconds = 5
        /// How long the hosts may take to agree again once the schedule is over.
        public var convergeSeconds = 60.0
        /// Resident memory of every daemon and the controller is sampled this often.
        public var rssSeconds = 10.0
        public init() {}
    }

    public static func run(name: String, root: String, binaries: LabBinaries, options: Options,
                           progress: @escaping @Sendable (String) -> Void) async throws(LabError) -> ChaosReport {
        let record = try LabRecord.load(directory: root + "/" + name)
        guard !record.hosts.isEmpty, !record.network.isEmpty else { throw LabError("lab \(name) has no hosts or network") }
        let config = try await LabControl.attachmentConfig(record)
        let podsFile = record.directory + "/chaos-pods.json"
        let state = ChurnState(podsFile: podsFile)
        state.publish()
        let churn = LabChurn(record: record, config: config, binaries: binaries, state: state, maxPodsPerHost: options.maxPodsPerHost)
        let controller = LabControllerProcess(record: record, binaries: binaries, podsFile: podsFile, sweepSeconds: options.sweepSeconds)
        try controller.start()
        defer { controller.kill() }
        let checks = ChaosChecks(record: record, state: state, multinicctl: binaries.directory + "/multinicctl")
        let report = Mutex(ChaosReport(seed: options.seed, seconds: options.seconds, rate: options.rate))
        let start = ContinuousClock.now
        let elapsed: @Sendable () -> Double = { LabChurn.seconds(ContinuousClock.now - start) }
        let stop = Atomic<Bool>(false)
        let schedule = ChaosFault.schedule(seed: options.seed, seconds: options.seconds, rate: options.rate, hosts: record.hosts.count,
                                           nics: record.hosts.first?.nics.count ?? 1)
        progress("chaos on lab \(name): \(options.seconds) s, seed \(options.seed), \(schedule.count) faults scheduled, "
                 + "\(record.hosts.count) hosts churning up to \(options.maxPodsPerHost) pods each")
        let injector = ChaosInjector(record: record, binaries: binaries, churn: churn, controller: controller)
        // Each journal on a small disk of its own, which a fault can fill.
        try LabJournalDisk.mount(record, injector: injector)
        var threads: [Thread] = []
        let done = Atomic<Int>(0)
        func launch(_ body: @escaping @Sendable () -> Void) {
            let thread = Thread {
                body()
                done.add(1, ordering: .sequentiallyConsistent)
            }
            threads.append(thread)
            thread.start()
        }
        for host in record.hosts.indices {
            launch {
                var random = ChaosRandom(seed: options.seed &+ UInt64(host) &* 7919)
                while !stop.load(ordering: .relaxed) {
                    churn.step(host: host, random: &random)
                    usleep(UInt32.random(in: 5_000...60_000, using: &random))
                }
            }
        }
        launch {
            var random = ChaosRandom(seed: options.seed ^ 0xC4A05)
            for (at, fault) in schedule {
                while elapsed() < at && !stop.load(ordering: .relaxed) { usleep(20_000) }
                if stop.load(ordering: .relaxed) { break }
                let hold = Double.random(in: 0.5...2.5, using: &random)
                let when = elapsed()
                let note: String
                do {
                    note = try injector.run(fault, hold: hold)
                } catch {
                    note = "failed: \(error)"
                    report.withLock { $0.violations.append((elapsed(), "injecting \"\(fault)\": \(error)")) }
                }
                report.withLock { $0.faults.append((when, fault.description, note)) }
                progress(String(format: "  %6.1f s  %@ — %@", when, fault.description, note))
            }
        }
        // The invariants while it runs; a journal difference counts once seen twice in a row (a call may be between
        // its answer and the churn's bookkeeping).
        var suspected: [Int: Set<String>] = [:]
        var reported = Set<String>()
        let memory = RSSSampler()
        var sampledAt = -Double.infinity
        while elapsed() < options.seconds {
            try? await Task.sleep(for: .seconds(1))
            if elapsed() - sampledAt >= options.rssSeconds {
                sampledAt = elapsed()
                let hosts = (try? LabRecord.load(directory: record.directory))?.hosts ?? record.hosts
                memory.sample(at: sampledAt, hosts.enumerated().map { ("multi-nicd host \($0.offset)", $0.element.daemonPID ?? 0) }
                                             + [("controller", controller.pid ?? 0)])
            }
            var found = checks.duplicates()
            for host in record.hosts.indices {
                guard let differences = checks.journalDifferences(host: host) else { continue }
                let now = Set(differences)
                found += now.intersection(suspected[host] ?? []).sorted()
                suspected[host] = now
            }
            for violation in found where reported.insert(violation).inserted {
                report.withLock { $0.violations.append((elapsed(), violation)) }
                progress(String(format: "  %6.1f s  VIOLATION %@", elapsed(), violation))
            }
        }
        stop.store(true, ordering: .relaxed)
        while done.load(ordering: .sequentiallyConsistent) < threads.count { try? await Task.sleep(for: .milliseconds(50)) }
        progress(String(format: "schedule over at %.1f s; healing and waiting for the hosts to agree", elapsed()))
        let end = elapsed()
        report.withLock { $0.memory = memory.all }
        await settle(churn: churn, checks: checks, report: report, options: options, end: end, elapsed: elapsed, progress: progress)
        do {
            try LabJournalDisk.unmount(record, injector: injector)
        } catch {
            report.withLock { $0.violations.append((elapsed(), "the journals could not be moved back: \(error)")) }
        }
        return report.withLock { $0 }
    }

    /// After the schedule: DELs owed are made, the hosts must agree within the window, every live pod reaches every
    /// other, and once every chaos pod is deleted nothing may be left.
    static func settle(churn: LabChurn, checks: ChaosChecks, report: borrowing Mutex<ChaosReport>, options: Options, end: Double,
                       elapsed: @Sendable () -> Double, progress: @Sendable (String) -> Void) async {
        var problems: [String] = []
        let deadline = end + options.convergeSeconds
        while elapsed() < deadline {
            for pod in churn.state.snapshot.toDelete.values.sorted(by: { $0.name < $1.name }) { churn.delete(pod) }
            problems = churn.state.snapshot.toDelete.isEmpty ? checks.convergence() : ["DELs still failing: \(churn.state.snapshot.toDelete.keys.sorted())"]
            if problems.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(500))
        }
        let converged = problems.isEmpty ? elapsed() - end : nil
        report.withLock { $0.reconvergeSeconds = converged }
        for problem in problems { report.withLock { $0.violations.append((elapsed(), "not converged: \(problem)")) } }
        progress(converged.map { String(format: "hosts agree %.1f s after the schedule", $0) } ?? "hosts did not agree: \(problems)")
        let unreachable = checks.unreachable()
        for failure in unreachable { report.withLock { $0.violations.append((elapsed(), "unreachable: \(failure)")) } }
        let live = churn.state.snapshot.live.values.sorted { $0.name < $1.name }
        report.withLock { $0.pinged = (live.count, unreachable.count) }
        progress("ping mesh of \(live.count) live pods: \(unreachable.isEmpty ? "every pair on every NIC" : "\(unreachable.count) failures")")
        // Every host deletes its pods at once (a soak ends with a hundred pods or more).
        let group = DispatchGroup()
        for host in Set(live.map(\.host)).sorted() {
            group.enter()
            Thread {
                for pod in live where pod.host == host {
                    for _ in 0..<20 where !churn.delete(pod) { usleep(500_000) }
                }
                group.leave()
            }.start()
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                group.wait()
                continuation.resume()
            }
        }
        // Releases queued while a daemon was down are replayed every 5 s in the lab: wait a few rounds.
        var left: [String] = []
        for _ in 0..<40 {
            left = checks.leftovers()
            if left.isEmpty { break }
            try? await Task.sleep(for: .milliseconds(500))
        }
        for item in left { report.withLock { $0.violations.append((elapsed(), "left after deleting every pod: \(item)")) } }
        let figures = churn.state.snapshot.figures
        report.withLock { $0.figures = figures }
        try? FileManager.default.removeItem(atPath: churn.state.podsFile)
    }
}
