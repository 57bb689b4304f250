import Foundation
import Synchronization

/// The daemon's Prometheus metrics, rendered in the text exposition format at `/metrics`.
public final class DaemonMetrics: Sendable {
    /// Upper bounds (seconds) of the request-latency histogram buckets.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]

    private struct Histogram {
        var counts = Array(repeating: 0, count: DaemonMetrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    private struct ErrorKey: Hashable {
        var path: String
        var status: Int
    }

    private struct State {
        var requests: [String: Histogram] = [:]
        var errors: [ErrorKey: Int] = [:]
        var allocations = 0
        var releases = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// A label value in the exposition format: `\`, `"` and newlines escaped.
    static func label(_ value: String) -> String {
        var result = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// Records one request to `path` (a route template, never a client's raw path) that took `seconds` (and failed with `status` when ≥ 400).
    public func observe(path: String, seconds: Double, status: Int) {
        state.withLock { state in
            var histogram = state.requests[path] ?? Histogram()
            for (index, bound) in Self.buckets.enumerated() where seconds <= bound { histogram.counts[index] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.requests[path] = histogram
            if status >= 400 { state.errors[ErrorKey(path: path, status: status), default: 0] += 1 }
        }
    }

    public func countAllocations(_ count: Int) { state.withLock { $0.allocations += count } }
    public func countReleases(_ count: Int) { state.withLock { $0.releases += count } }

    /// The exposition text; `gauges` are point-in-time values (pool usage, route sync, fsyncs) rendered as given.
    public func render(gauges: [(name: String, help: String, labels: [String: String], value: Double)]) -> String {
        let snapshot = state.withLock { $0 }
        var lines: [String] = []
        lines.append("# HELP multinic_allocations_total Addresses handed out.")
        lines.append("# TYPE multinic_allocations_total counter")
        lines.append("multinic_allocations_total \(snapshot.allocations)")
        lines.append("# HELP multinic_releases_total Addresses released.")
        lines.append("# TYPE multinic_releases_total counter")
        lines.append("multinic_releases_total \(snapshot.releases)")
        lines.append("# HELP multinic_request_duration_seconds Daemon API request latency.")
        lines.append("# TYPE multinic_request_duration_seconds histogram")
        for (rawPath, histogram) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            let path = Self.label(rawPath)
            for (index, bound) in Self.buckets.enumerated() {
                lines.append("multinic_request_duration_seconds_bucket{path=\"\(path)\",le=\"\(bound)\"} \(histogram.counts[index])")
            }
            lines.append("multinic_request_duration_seconds_bucket{path=\"\(path)\",le=\"+Inf\"} \(histogram.count)")
            lines.append("multinic_request_duration_seconds_sum{path=\"\(path)\"} \(histogram.sum)")
            lines.append("multinic_request_duration_seconds_count{path=\"\(path)\"} \(histogram.count)")
        }
        lines.append("# HELP multinic_request_errors_total Failed requests by path and status.")
        lines.append("# TYPE multinic_request_errors_total counter")
        for (key, count) in snapshot.errors.sorted(by: { $0.key.path < $1.key.path || ($0.key.path == $1.key.path && $0.key.status < $1.key.status) }) {
            lines.append("multinic_request_errors_total{path=\"\(Self.label(key.path))\",status=\"\(key.status)\"} \(count)")
        }
        var described: Set<String> = []
        for gauge in gauges {
            if described.insert(gauge.name).inserted {
                lines.append("# HELP \(gauge.name) \(gauge.help)")
                lines.append("# TYPE \(gauge.name) gauge")
            }
            let labels = gauge.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.label($0.value))\"" }.joined(separator: ",")
            lines.append("\(gauge.name)\(labels.isEmpty ? "" : "{\(labels)}") \(gauge.value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
