import Foundation

/// Resident memory of the lab's long-running processes over a chaos or soak run: a sample of each every period, and
/// per process its peak and its growth (least-squares slope over the samples since it last started).
struct RSSSeries: Sendable, Hashable {
    var process: String
    /// (seconds since the run started, KiB), since the process's last start.
    var samples: [(Double, Int)] = []
    var peakKiB = 0

    static func == (lhs: RSSSeries, rhs: RSSSeries) -> Bool { lhs.process == rhs.process && lhs.peakKiB == rhs.peakKiB }
    func hash(into hasher: inout Hasher) { hasher.combine(process) }

    /// KiB per minute; nil with fewer than three samples.
    var slopeKiBPerMinute: Double? {
        guard samples.count >= 3 else { return nil }
        let n = Double(samples.count)
        let meanX = samples.reduce(0) { $0 + $1.0 } / n, meanY = samples.reduce(0) { $0 + Double($1.1) } / n
        let covariance = samples.reduce(0) { $0 + ($1.0 - meanX) * (Double($1.1) - meanY) }
        let variance = samples.reduce(0) { $0 + ($1.0 - meanX) * ($1.0 - meanX) }
        return variance > 0 ? covariance / variance * 60 : nil
    }

    /// `VmRSS` of a process in KiB (nil when it is gone).
    static func residentKiB(pid: Int32) -> Int? {
        guard pid > 0, let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        return nil
    }
}

/// Samples named processes (their PIDs looked up at each sample: a restarted process starts a new series).
final class RSSSampler: @unchecked Sendable {
    private let lock = NSLock()
    private var series: [String: RSSSeries] = [:]
    private var lastPID: [String: Int32] = [:]

    /// One sample of each (name, pid).
    func sample(at seconds: Double, _ processes: [(name: String, pid: Int32)]) {
        lock.lock()
        defer { lock.unlock() }
        for (name, pid) in processes {
            guard let kib = RSSSeries.residentKiB(pid: pid) else { continue }
            var current = series[name] ?? RSSSeries(process: name)
            if lastPID[name] != pid { current.samples = [] }
            lastPID[name] = pid
            current.samples.append((seconds, kib))
            current.peakKiB = max(current.peakKiB, kib)
            series[name] = current
        }
    }

    var all: [RSSSeries] {
        lock.lock()
        defer { lock.unlock() }
        return series.values.sorted { $0.process < $1.process }
    }
}
