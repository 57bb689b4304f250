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
        // `MULTINIC_FUZZ_SEED` shifts every kind's seed (another million cases); the report names the seed used.
        let seed = seed ^ (ProcessInfo.processInfo.environment["MULTINIC_FUZZ_SEED"].flatMap(UInt64.init) ?? 0)
        var coverage = FuzzCoverage(kind: kind, seed: seed)
        var random = SeededRandom(seed: seed)
        let label = strdup("\(kind) seed \(seed)")
        defer { free(label) }
        CrashNote.arm(label: label)
        defer { CrashNote.disarm() }
        let watchdog = Watchdog(label: "\(kind) seed \(seed)", seconds: hangSeconds)
        defer { watchdog.stop() }
        for index in 0..<cases {
            CrashNote.current.pointee = index
            watchdog.progress(index)
            if let message = try body(&random, index) {
                coverage.rejections[String(message.map { $0.isNumber ? "#" : $0 }.prefix(120)), default: 0] += 1
            } else {
                coverage.accepted += 1
            }
            coverage.cases += 1
        }
        return coverage
    }
}

/// Reports a case that runs too long, then aborts (a hang must not pass as a slow test).
final class Watchdog: Sendable {
    private let state = Mutex((index: -1, changed: Date(), stopped: false))

    init(label: String, seconds: Double) {
        let thread = Thread { [self] in
            while true {
                Thread.sleep(forTimeInterval: 1)
                let (index, changed, stopped) = state.withLock { $0 }
                if stopped { return }
                if Date().timeIntervalSince(changed) > seconds {
                    FileHandle.standardError.write(Data("fuzz hang: \(label), case \(index) ran over \(Int(seconds)) s\n".utf8))
                    abort()
                }
            }
        }
        thread.start()
    }

    func progress(_ index: Int) {
        // Cheap enough per case; the clock is read only every 64 cases.
        if index % 64 == 0 { state.withLock { $0 = (index, Date(), false) } }
    }

    func stop() { state.withLock { $0.stopped = true } }
}

/// The case being run, for the signal handler of a crash (async-signal-safe: no allocation, `write` only).
enum CrashNote {
    nonisolated(unsafe) static let current: UnsafeMutablePointer<Int> = {
        let pointer = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        pointer.initialize(to: -1)
        return pointer
    }()
    nonisolated(unsafe) static var label: UnsafeMutablePointer<CChar>?
    static let signals = [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT]

    static func arm(label: UnsafeMutablePointer<CChar>?) {
        Self.label = label
        for signal in signals {
            _ = Foundation.signal(signal) { number in
                CrashNote.write("fuzz crash: ")
                if let label = CrashNote.label { _ = Glibc.write(2, label, strlen(label)) }
                CrashNote.write(", case ")
                CrashNote.writeNumber(CrashNote.current.pointee)
                CrashNote.write("\n")
                _ = Foundation.signal(number, SIG_DFL)
                raise(number)
            }
        }
    }

    static func disarm() {
        for signal in signals { _ = Foundation.signal(signal, SIG_DFL) }
        label = nil
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
