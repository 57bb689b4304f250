import MultiNICController
import Prometheus
import Synchronization

/// The operator's Prometheus metrics (swift-prometheus): leadership, informer health, and the leak sweep's outcomes
/// per node (deploy/monitoring alerts on `multinic_operator_leak_sweep_failures_total`).
public final class OperatorMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let leading: Gauge
    /// Informer failures already counted, per kind (the informers keep totals; the counter grows by the difference).
    private let countedFailures = Mutex<[String: Int]>([:])

    public init() {
        leading = registry.makeGauge(descriptor: Self.name("multinic_operator_leading", "1 while this replica leads."))
    }

    /// A metric's full name and help text.
    static func name(_ name: String, _ help: String) -> MetricNameDescriptor { MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }

    /// One sweep outcome of `node`.
    public func record(leakSweep outcome: LeakSweepOutcome, node: String) {
        switch outcome {
        case .released(let addresses):
            registry.makeCounter(descriptor: Self.name("multinic_operator_leaked_addresses_released_total",
                                                       "Addresses of deleted pods released by the leak sweep."),
                                 labels: [("node", node)]).increment(by: Int64(addresses.count))
        case .failed:
            registry.makeCounter(descriptor: Self.name("multinic_operator_leak_sweep_failures_total",
                                                       "Leak sweeps of the node that could not finish (nothing was released)."),
                                 labels: [("node", node)]).increment()
        }
    }

    /// The exposition text, with leadership and informer health as they are now.
    public func render(leading isLeading: Bool, informers: [InformerHealth]) -> String {
        leading.set(to: isLeading ? 1 : 0)
        countedFailures.withLock { counted in
            for informer in informers {
                registry.makeGauge(descriptor: Self.name("multinic_operator_informer_synced", "Whether the kind's informer has its first list."),
                                   labels: [("kind", informer.kind)]).set(to: informer.synced ? 1 : 0)
                let failures = registry.makeCounter(descriptor: Self.name("multinic_operator_informer_failures_total",
                                                                          "Lists and watches of the kind that failed."),
                                                    labels: [("kind", informer.kind)])
                let new = informer.failures - (counted[informer.kind] ?? 0)
                if new > 0 { failures.increment(by: Int64(new)) }
                counted[informer.kind] = max(informer.failures, counted[informer.kind] ?? 0)
            }
        }
        return registry.emitToString()
    }
}
