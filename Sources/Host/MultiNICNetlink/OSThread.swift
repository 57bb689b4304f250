#if canImport(Glibc)
import Glibc
#endif

/// A plain POSIX thread, for work that must not run on a Swift-concurrency thread (entering a network namespace
/// changes the calling thread) and without Foundation, so that the CNI binaries can link this module.
enum OSThread {
    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new thread and waits for it to finish.
    static func runAndWait(_ body: @escaping () -> Void) -> Bool {
        guard let thread = start(body) else { return false }
        return pthread_join(thread, nil) == 0
    }

    /// Runs `body` on a new detached thread.
    @discardableResult
    static func detach(_ body: @escaping () -> Void) -> Bool {
        guard let thread = start(body) else { return false }
        return pthread_detach(thread) == 0
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
