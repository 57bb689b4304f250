import Synchronization

/// Where reconcilers report the failures they retry, so a controller that keeps requeueing says why (the operator
/// logs them; the lab and tests may listen). Nothing listens by default.
public enum ReconcileLog {
    private static let sink = Mutex<(@Sendable (String) -> Void)?>(nil)

    /// Sends every reported failure to `handler` from now on.
    public static func listen(_ handler: @escaping @Sendable (String) -> Void) { sink.withLock { $0 = handler } }

    /// `what` (reconciler and key) failed with `error` and will be retried.
    public static func failure(_ what: String, _ error: some Error) {
        let handler = sink.withLock { $0 }
        handler?("\(what): \(error)")
    }
}
