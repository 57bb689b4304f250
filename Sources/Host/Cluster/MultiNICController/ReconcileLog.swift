import Logging
import Synchronization

/// Where reconcilers report the failures they retry: a swift-log line with the key, the error and the requeue
/// delay, once per distinct error of a key (a failure retried every 5 s is one line until it changes, clears, or
/// ten minutes pass).
public enum ReconcileLog {
    static let logger = Logger(label: "multinic.controller")
    /// The last error logged per key, and when.
    private static let last = Mutex<[String: (text: String, at: ContinuousClock.Instant)]>([:])
    /// How long a repeated error stays quiet.
    static let quiet: Duration = .seconds(600)

    /// `what` (reconciler and key) failed with `error`; it is retried after `retry` (`nil`: not retried).
    public static func failure(_ what: String, _ error: some Error, retry: Duration?) {
        let text = "\(error)"
        let now = ContinuousClock.now
        let repeated = last.withLock { seen in
            if let previous = seen[what], previous.text == text, now - previous.at < quiet { return true }
            seen[what] = (text, now)
            return false
        }
        guard !repeated else { return }
        logger.warning("reconcile failed", metadata: [
            "key": .string(what), "error": .string(text),
            "retry": .string(retry.map { "\($0.components.seconds)s" + ($0 < .seconds(1) ? " (<1s)" : "") } ?? "no"),
        ])
    }

    /// Logs the failure (see ``failure(_:_:retry:)``) and returns the requeue.
    public static func retry(_ what: String, _ error: some Error, after delay: Duration) -> ReconcileResult {
        failure(what, error, retry: delay)
        return .requeue(after: delay)
    }

    /// `what` succeeded: a later failure with the same error is logged again.
    public static func success(_ what: String) {
        let cleared = last.withLock { $0.removeValue(forKey: what) != nil }
        if cleared { logger.info("reconcile recovered", metadata: ["key": .string(what)]) }
    }
}
