import Foundation
import Testing

/// A task executor with one thread of its own.
///
/// Swift concurrency has as many threads as cores (2 in CI). A test that blocks its thread — waiting for a child
/// process, a synchronous socket, a `Thread.sleep` — takes one of them from every other suite, and two such tests
/// starve the rest of the run: a gRPC deadline or a lease then expires in a test that did nothing wrong. Tests that
/// block run on a thread of their own instead (``Trait/ownThread``).
public final class OwnThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var finished = false

    public init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        defer { condition.unlock() }
        if finished {
            // A job that arrives after the test (a task the test left behind) runs on the shared executor.
            globalConcurrentExecutor.enqueue(job)
            return
        }
        jobs.append(job)
        condition.signal()
    }

    /// Ends the thread once the jobs already queued have run.
    public func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !finished { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test it is applied to (every test of a suite, when applied to a suite) on its own thread.
public struct OwnThreadTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        let executor = OwnThreadExecutor(name: "test: \(test.name)")
        defer { executor.finish() }
        try await withTaskExecutorPreference(executor) { try await function() }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// For tests that block their thread (child processes, synchronous sockets, sleeps): they run on a thread of
    /// their own and leave Swift concurrency's few threads to the other suites.
    public static var ownThread: Self { OwnThreadTrait() }
}
