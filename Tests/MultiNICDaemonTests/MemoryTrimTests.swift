@testable import MultiNICDaemon
import Testing

struct MemoryTrimTests {
    /// glibc (Debian's) has malloc_trim: the daemon finds it and calls it.
    @Test func theCLibrarysTrimIsFoundAndRuns() {
        #expect(MemoryTrim.releaseFreePages())
    }
}
