#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread, for work that must not run on a Swift-concurrency thread: entering a network namespace
/// changes the calling thread, and a blocking call (libcurl) must not hold a cooperative or a Dispatch worker thread
/// (on a two-core machine a few of those starve every other task). No Foundation, so the CNI binaries can use it.
public enum OSThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new thread and waits for it to finish.
    public static func runAndWait(_ body: @escaping () -> Void) -> Bool {
        guard let thread = start(body) else { return false }
        return pthread_join(thread, nil) == 0
    }

    /// Runs `body` on a new detached thread.
    @discardableResult
    public static func detach(_ body: @escaping () -> Void) -> Bool {
        guard let thread = start(body) else { return false }
        return pthread_detach(thread) == 0
    }

    /// Runs blocking `body` on a thread of its own and resumes the caller with its outcome (the caller's
    /// concurrency thread is free meanwhile).
    public static func result<T: Sendable, Failure: Error>(of body: @escaping @Sendable () throws(Failure) -> T) async
        -> Result<T, Failure>
    {
        await withCheckedContinuation { continuation in
            detach { continuation.resume(returning: Result { () throws(Failure) -> T in try body() }) }
        }
    }

    private static func start(_ body: @escaping () -> Void) -> pthread_t? {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<Body>.fromOpaque(context).release()
            return nil
        }
        return thread
    }
}
