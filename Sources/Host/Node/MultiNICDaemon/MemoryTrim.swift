import Foundation

/// Gives the C heap's free pages back to the kernel (glibc's `malloc_trim`). A burst of work — encoding every
/// allocation of a pool for its mirror, a journal snapshot — frees megabytes that glibc keeps mapped in its
/// per-thread arenas; without a trim the daemon's resident memory stays at its highest point. A no-op where the C
/// library has no `malloc_trim` (musl).
enum MemoryTrim {
    private typealias TrimFunction = @convention(c) (Int) -> Int32

    private static let function: TrimFunction? = {
        // nil: RTLD_DEFAULT, the process's own symbols.
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: TrimFunction.self)
    }()

    /// Returns the free pages of every arena; true when the C library did.
    @discardableResult
    static func releaseFreePages() -> Bool {
        guard let function else { return false }
        _ = function(0)
        return true
    }
}
