import Foundation

/// What a chaos run did and found: the faults injected, the violations (each with the time; the seed reproduces the
/// schedule), and the figures.
public struct ChaosReport: Sendable {
    public var seed: UInt64
    public var seconds: Double
    public var rate: Double
    public var faults: [(at: Double, fault: String, note: String)] = []
    public var violations: [(at: Double, text: String)] = []
    var figures = ChurnState.Figures()
    /// Seconds from the end of the schedule until the hosts agreed; nil when they did not.
    public var reconvergeSeconds: Double?
    /// Live pods in the final ping mesh and the failed pings.
    public var pinged = (pods: 0, failures: 0)
    /// Resident memory of the daemons and the controller, sampled during the run.
    var memory: [RSSSeries] = []

    init(seed: UInt64, seconds: Double, rate: Double) {
        self.seed = seed
        self.seconds = seconds
        self.rate = rate
    }

    public var passed: Bool { violations.isEmpty }
    public var adds: Int { figures.adds }
    public var dels: Int { figures.dels }

    /// The ADD latency at `fraction` (0.99: p99), in milliseconds; nil without ADDs.
    public func addMilliseconds(_ fraction: Double) -> Double? {
        let sorted = figures.addSeconds.sorted()
        guard !sorted.isEmpty else { return nil }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))] * 1000
    }

    public var text: String {
        var lines = ["###########################################", "## Chaos: seed \(seed), \(Int(seconds)) s, "
            + String(format: "%.2f", rate) + " faults/s", "###########################################"]
        lines.append("FAULTS (\(faults.count))")
        lines += faults.map { String(format: "  %7.1f s  ", $0.at) + $0.fault + " — " + $0.note }
        lines.append("VIOLATIONS (\(violations.count))")
        lines += violations.map { String(format: "  %7.1f s  ", $0.at) + $0.text + " [seed \(seed)]" }
        lines.append("FIGURES")
        lines.append(String(format: "  ADDs %d (%.1f/s), failed %d; DELs %d, failed and retried %d", figures.adds,
                            Double(figures.adds) / max(seconds, 1), figures.addFailures, figures.dels, figures.delFailures))
        for (reason, count) in figures.addErrors.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }).prefix(5) {
            lines.append("    \(count)× \(reason)")
        }
        lines.append("  ADD p50 " + (addMilliseconds(0.5).map { String(format: "%.0f ms", $0) } ?? "-")
                     + ", p99 " + (addMilliseconds(0.99).map { String(format: "%.0f ms", $0) } ?? "-"))
        lines.append("  re-converged " + (reconvergeSeconds.map { String(format: "%.1f s after the schedule", $0) } ?? "never"))
        lines.append("  ping mesh: \(pinged.pods) live pods, \(pinged.failures) failed pings")
        if !memory.isEmpty { lines.append("MEMORY (resident: peak, growth over the samples since the process last started)") }
        for series in memory {
            let name = series.process.padding(toLength: 20, withPad: " ", startingAt: 0)
            lines.append("  " + name + String(format: " peak %6.1f MiB, ", Double(series.peakKiB) / 1024)
                         + (series.slopeKiBPerMinute.map { String(format: "%+.1f KiB/min", $0) } ?? "slope -")
                         + " (\(series.samples.count) samples)")
        }
        lines.append("## " + (passed ? "PASSED: no violation" : "FAILED: \(violations.count) violations (reproduce with --seed \(seed))"))
        return lines.joined(separator: "\n")
    }
}
