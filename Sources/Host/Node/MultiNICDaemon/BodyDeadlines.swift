import Synchronization

/// Deadlines of request bodies still arriving, watched by one loop (not one sleeping task per request: a cancelled
/// `Task.sleep` keeps its task and timer until the deadline, which held ~0.5 KiB per request for the body timeout —
/// 30 MB at 6000 requests/s). The loop runs only while something is watched, waking every `tick`.
final class BodyDeadlines: Sendable {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var expired: Set<UInt64> = []
        var running = false
    }

    private let state = Mutex(State())
    private let tick: Duration

    /// The deadlines of every daemon listener.
    static let shared = BodyDeadlines()

    init(tick: Duration = .milliseconds(250)) {
        self.tick = tick
    }

    /// Calls `expire` once `seconds` have passed, unless ``finish(_:)`` comes first; returns the watch's ID.
    func watch(seconds: Int, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let (id, start) = state.withLock { state -> (UInt64, Bool) in
            state.next += 1
            state.entries[state.next] = Entry(deadline: deadline, expire: expire)
            defer { state.running = true }
            return (state.next, !state.running)
        }
        if start { Task.detached { [self] in await loop() } }
        return id
    }

    /// Ends a watch; true when its deadline had passed (its `expire` was called).
    @discardableResult
    func finish(_ id: UInt64) -> Bool {
        state.withLock { state in
            state.entries[id] = nil
            return state.expired.remove(id) != nil
        }
    }

    /// Watches running now (for tests and metrics).
    var watching: Int { state.withLock { $0.entries.count } }

    private func loop() async {
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let due = state.withLock { state -> [@Sendable () -> Void]? in
                let due = state.entries.filter { $0.value.deadline <= now }
                for id in due.keys {
                    state.entries[id] = nil
                    state.expired.insert(id)
                }
                if state.entries.isEmpty && due.isEmpty {
                    state.running = false
                    return nil
                }
                return due.values.map(\.expire)
            }
            guard let due else { return }
            for expire in due { expire() }
        }
    }
}
