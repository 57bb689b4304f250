import Foundation
import Synchronization

/// What a fuzz run of one input kind saw: how many inputs were accepted, and the distinct rejection messages (digits
/// blurred) with their counts — the messages' coverage.
public struct FuzzCoverage: Sendable, CustomStringConvertible {
    public var kind: String
    public var seed: UInt64
    public var cases = 0
    public var accepted = 0
    public var rejections: [String: Int] = [:]

    /// A rejection message as counted: digits blurred to `#`, control characters shown as `?`, at most 120 characters.
    static func key(_ message: String) -> String {
        String(message.map { $0.isNumber ? "#" : $0.unicodeScalars.allSatisfy { $0.value < 0x20 || $0.value == 0x7f } ? "?" : $0 }.prefix(120))
    }

    public var description: String {
        let top = rejections.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(8)
            .map { "    \($0.value)× \($0.key)" }.joined(separator: "\n")
        return "fuzz \(kind) (seed \(seed)): \(cases) cases, \(accepted) accepted, \(rejections.count) distinct rejection messages\n" + top
    }
}

/// Runs generated inputs of one kind with a crash and hang reporter: a case that crashes the process (a trap or a
/// fault) prints the kind, seed and case number before the process dies; a case that runs longer than
/// `hangSeconds` is reported the same way and the process aborted. Either names the case to make a regression test of.
public enum FuzzHarness {
    /// `MULTINIC_FUZZ_CASES` (bench/run fuzz: 1 000 000), else `ci`.
    public static func cases(ci: Int) -> Int {
        ProcessInfo.processInfo.environment["MULTINIC_FUZZ_CASES"].flatMap(Int.init) ?? ci
    }

    /// `body` gets the generator and the case number; it answers nil when the input was accepted, else the rejection
    /// message. A thrown error fails the run (it means the input was neither accepted nor cleanly rejected).
    public static func run(kind: String, seed: UInt64, cases: Int, hangSeconds: Double = 30,
                           _ body: (inout SeededRandom, Int) throws -> String?) rethrows -> FuzzCoverage {
        var loop = FuzzLoop(kind: kind, seed: seed, hangSeconds: hangSeconds)
        defer { loop.close() }
        for index in 0..<cases {
            loop.starting(index)
            let message = try body(&loop.random, index)
            loop.finished(message)
        }
        return loop.coverage
    }

    /// ``run(kind:seed:cases:hangSeconds:_:)`` for a body that awaits (requests to an in-process server). Between its
    /// awaits the loop may move to another thread: a crash there is reported as on another thread, naming every
    /// running loop with its case.
    public static func run(kind: String, seed: UInt64, cases: Int, hangSeconds: Double = 30,
                           _ body: (inout SeededRandom, Int) async throws -> String?) async rethrows -> FuzzCoverage {
        var loop = FuzzLoop(kind: kind, seed: seed, hangSeconds: hangSeconds)
        defer { loop.close() }
        for index in 0..<cases {
            loop.starting(index)
            let message = try await body(&loop.random, index)
            loop.finished(message)
        }
        return loop.coverage
    }
}

/// One fuzz loop's bookkeeping: its seed and generator, its crash-note slot, its watchdog and its coverage.
struct FuzzLoop {
    var coverage: FuzzCoverage
    var random: SeededRandom
    let slot: Int?
    let watchdog: Watchdog

    init(kind: String, seed: UInt64, hangSeconds: Double) {
        // `MULTINIC_FUZZ_SEED` shifts every kind's seed (another million cases); the report names the seed used.
        let seed = seed ^ (ProcessInfo.processInfo.environment["MULTINIC_FUZZ_SEED"].flatMap(UInt64.init) ?? 0)
        coverage = FuzzCoverage(kind: kind, seed: seed)
        random = SeededRandom(seed: seed)
        slot = CrashNote.arm(label: "\(kind) seed \(seed)")
        watchdog = Watchdog(label: "\(kind) seed \(seed)", slot: slot, seconds: hangSeconds)
    }

    func starting(_ index: Int) {
        CrashNote.note(index, in: slot)
        watchdog.progress(index)
    }

    mutating func finished(_ message: String?) {
        if let message {
            coverage.rejections[FuzzCoverage.key(message), default: 0] += 1
        } else {
            coverage.accepted += 1
        }
        coverage.cases += 1
    }

    func close() {
        watchdog.stop()
        CrashNote.disarm(slot)
    }
}

/// Reports a case that runs too long, then aborts (a hang must not pass as a slow test).
final class Watchdog: Sendable {
    private let state = Mutex((changed: Date(), stopped: false))

    init(label: String, slot: Int?, seconds: Double) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let (changed, stopped) = state.withLock { $0 }
                if stopped { return }
                if Date().timeIntervalSince(changed) > seconds {
                    let index = slot.map(CrashNote.index) ?? -1
                    FileHandle.standardError.write(Data("fuzz hang: \(label), case \(index) ran over \(Int(seconds)) s\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    /// Case `index` starts: the clock is reset every 64 cases (each case's number is in ``CrashNote``).
    func progress(_ index: Int) {
        if index % 64 == 0 { state.withLock { $0.changed = Date() } }
    }

    func stop() { state.withLock { $0.stopped = true } }
}

/// The case each running fuzz loop is at, for the signal handler of a crash: one slot per loop, claimed by its thread,
/// so that loops running in parallel (the suites do) each name their own case. The handler is async-signal-safe: it
/// reads preallocated slots and calls `write` only.
enum CrashNote {
    static let slotCount = 32
    /// Per slot: the owning thread (0: free), its label (a C string), the case it is at.
    nonisolated(unsafe) static let threads = UnsafeMutablePointer<UInt>.allocate(capacity: slotCount).initialized(to: 0, count: slotCount)
    nonisolated(unsafe) static let labels = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slotCount)
        .initialized(to: nil, count: slotCount)
    nonisolated(unsafe) static let indexes = UnsafeMutablePointer<Int>.allocate(capacity: slotCount).initialized(to: -1, count: slotCount)
    /// Slots in use; the handlers are installed while it is above zero.
    static let armed = Mutex(0)
    static let signals = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    /// Claims a slot for the calling thread's loop (nil when all are taken: that loop runs without a crash note).
    static func arm(label: String) -> Int? {
        armed.withLock { count -> Int? in
            guard let slot = (0..<slotCount).first(where: { threads[$0] == 0 }) else { return nil }
            labels[slot] = strdup(label)
            indexes[slot] = -1
            threads[slot] = UInt(pthread_self())
            count += 1
            if count == 1 {
                for signal in signals { _ = Foundation.signal(signal, handler) }
            }
            return slot
        }
    }

    static func disarm(_ slot: Int?) {
        guard let slot else { return }
        armed.withLock { count in
            threads[slot] = 0
            free(labels[slot])
            labels[slot] = nil
            count -= 1
            if count == 0 {
                for signal in signals { _ = Foundation.signal(signal, SIG_DFL) }
            }
        }
    }

    static func note(_ index: Int, in slot: Int?) {
        if let slot { indexes[slot] = index }
    }

    static func index(_ slot: Int) -> Int { indexes[slot] }

    /// Names the crashing thread's case; a crash on a thread without a loop names every running loop's.
    static let handler: @convention(c) (Int32) -> Void = { number in
        let me = UInt(pthread_self())
        let own = (0..<slotCount).contains { threads[$0] == me }
        for slot in 0..<slotCount where threads[slot] != 0 && (!own || threads[slot] == me) {
            write(own ? "fuzz crash: " : "fuzz crash (on another thread) while running: ")
            if let label = labels[slot] { _ = Glibc.write(2, label, strlen(label)) }
            write(", case ")
            writeNumber(indexes[slot])
            write("\n")
        }
        _ = Foundation.signal(number, SIG_DFL)
        raise(number)
    }

    static func write(_ text: StaticString) {
        _ = Glibc.write(2, text.utf8Start, text.utf8CodeUnitCount)
    }

    static func writeNumber(_ value: Int) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
            guard let base = digits.baseAddress else { return }
            var position = 24
            var rest = value < 0 ? 0 : value
            repeat {
                position -= 1
                base[position] = UInt8(48 + rest % 10)
                rest /= 10
            } while rest > 0
            _ = Glibc.write(2, base + position, 24 - position)
        }
    }
}

extension UnsafeMutablePointer {
    /// This memory, `count` elements of `value`.
    fileprivate func initialized(to value: Pointee, count: Int) -> Self {
        initialize(repeating: value, count: count)
        return self
    }
}
