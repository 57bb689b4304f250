/// What a reconcile asks for next.
public enum ReconcileResult: Sendable, Hashable {
    case done
    /// Run again after this delay (waiting for something, or a failure to retry).
    case requeue(after: Duration)
}

/// A reconciler in controller-runtime's shape: level-based, given only a key, computing the desired state itself.
public protocol Reconciler: Sendable {
    associatedtype Key: Hashable & Sendable
    func reconcile(_ key: Key) async -> ReconcileResult
}

/// A deduplicating work queue: a key that is already waiting is not added twice (a burst of events becomes one
/// reconcile), a key is never reconciled by two workers at once, and a key added while it runs runs once more
/// afterwards. Its size is bounded by the number of distinct keys.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var order: [Key] = []
    private var waiting: Set<Key> = []
    private var running: Set<Key> = []
    private var dirty: Set<Key> = []
    private var delayed: [Key: Task<Void, Never>] = [:]
    private var consumers: [CheckedContinuation<Key?, Never>] = []
    private var stopped = false
    /// Keys handed out, for tests and benchmarks.
    public private(set) var handedOut = 0

    public init() {}

    public func add(_ key: Key) {
        guard !stopped else { return }
        if running.contains(key) {
            dirty.insert(key)
            return
        }
        guard waiting.insert(key).inserted else { return }
        if consumers.isEmpty {
            order.append(key)
        } else {
            waiting.remove(key)
            running.insert(key)
            handedOut += 1
            consumers.removeFirst().resume(returning: key)
        }
    }

    /// Adds `key` after `delay`; an earlier pending delayed add of the same key is replaced.
    public func add(_ key: Key, after delay: Duration) {
        guard !stopped else { return }
        delayed[key]?.cancel()
        delayed[key] = Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            await self?.fireDelayed(key)
        }
    }

    private func fireDelayed(_ key: Key) {
        delayed[key] = nil
        add(key)
    }

    /// The next key to reconcile; nil once the queue is shut down.
    public func next() async -> Key? {
        if stopped { return nil }
        if !order.isEmpty {
            let key = order.removeFirst()
            waiting.remove(key)
            running.insert(key)
            handedOut += 1
            return key
        }
        return await withCheckedContinuation { consumers.append($0) }
    }

    /// Marks `key` finished; it runs again if it was added meanwhile.
    public func done(_ key: Key) {
        running.remove(key)
        if dirty.remove(key) != nil { add(key) }
    }

    /// True when nothing waits or runs (delayed adds are not counted).
    public var isIdle: Bool { order.isEmpty && running.isEmpty }

    public func shutdown() {
        stopped = true
        for task in delayed.values { task.cancel() }
        delayed = [:]
        for consumer in consumers { consumer.resume(returning: nil) }
        consumers = []
    }
}

/// Runs `workers` loops that take keys from `queue`, reconcile them and requeue as asked.
public func runWorkers<R: Reconciler>(_ reconciler: R, queue: WorkQueue<R.Key>, workers: Int) -> [Task<Void, Never>] {
    (0..<max(1, workers)).map { _ in
        Task {
            while let key = await queue.next() {
                let result = await reconciler.reconcile(key)
                await queue.done(key)
                if case .requeue(let delay) = result { await queue.add(key, after: delay) }
            }
        }
    }
}
