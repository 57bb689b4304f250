import Foundation
import Prometheus
import Synchronization

/// The daemon's Prometheus metrics (swift-prometheus, one registry per daemon), rendered in the text exposition
/// format at `/metrics`. Names and buckets are part of the contract with deploy/monitoring's alerts and dashboard.
public final class DaemonMetrics: Sendable {
    /// Upper bounds (seconds) of the request-latency histogram buckets.
    static let buckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
    /// Upper bounds (seconds) of the journal fsync histogram (its alert fires at a p99 above 50 ms).
    static let fsyncBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    /// A point-in-time value set at scrape time (pool usage, route sync, journal totals).
    public struct Sample: Sendable {
        public var name: String
        public var help: String
        public var labels: [String: String]
        public var value: Double

        public init(_ name: String, _ help: String, labels: [String: String] = [:], value: Double) {
            self.name = name
            self.help = help
            self.labels = labels
            self.value = value
        }
    }

    private struct SampleKey: Hashable {
        var name: String
        var labels: [String: String]
    }

    let registry = PrometheusCollectorRegistry()
    private let allocations: Counter
    private let releases: Counter
    private let fsync: ValueHistogram
    /// The gauges of the last scrape: a pool or network gone since is unregistered, not left at its last value.
    private let gauges = Mutex<[SampleKey: Gauge]>([:])

    public init() {
        allocations = registry.makeCounter(descriptor: Self.name("multinic_allocations_total", "Addresses handed out."))
        releases = registry.makeCounter(descriptor: Self.name("multinic_releases_total", "Addresses released."))
        fsync = registry.makeValueHistogram(
            descriptor: Self.name("multinic_journal_fsync_duration_seconds", "Time to write and sync one group commit of the allocation journal."),
            buckets: Self.fsyncBuckets)
    }

    /// A metric's full name and help text.
    static func name(_ name: String, _ help: String) -> MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }

    /// Records one request to `path` (a route template, never a client's raw path) that took `seconds` (and failed with `status` when ≥ 400).
    public func observe(path: String, seconds: Double, status: Int) {
        registry.makeValueHistogram(descriptor: Self.name("multinic_request_duration_seconds", "Daemon API request latency."),
                                    labels: [("path", path)], buckets: Self.buckets).record(seconds)
        if status >= 400 {
            registry.makeCounter(descriptor: Self.name("multinic_request_errors_total", "Failed requests by path and status."),
                                 labels: [("path", path), ("status", String(status))]).increment()
        }
    }

    public func countAllocations(_ count: Int) { allocations.increment(by: Int64(count)) }
    public func countReleases(_ count: Int) { releases.increment(by: Int64(count)) }

    /// One journal write and sync.
    public func observeFsync(_ duration: Duration) {
        let parts = duration.components
        fsync.record(Double(parts.seconds) + Double(parts.attoseconds) / 1e18)
    }

    /// The exposition text, with `samples` as the gauges' current values.
    public func render(samples: [Sample]) -> String {
        gauges.withLock { gauges in
            var current: [SampleKey: Gauge] = [:]
            for sample in samples {
                let key = SampleKey(name: sample.name, labels: sample.labels)
                let gauge = gauges[key] ?? registry.makeGauge(descriptor: Self.name(sample.name, sample.help),
                                                              labels: sample.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
                gauge.set(to: sample.value)
                current[key] = gauge
            }
            for (key, gauge) in gauges where current[key] == nil { registry.unregisterGauge(gauge) }
            gauges = current
        }
        return registry.emitToString()
    }
}
