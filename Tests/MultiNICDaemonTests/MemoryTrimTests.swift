#if canImport(Glibc)
import Glibc
#endif
@testable import MultiNICDaemon
import Testing

struct MemoryTrimTests {
    /// glibc (Debian's) has malloc_trim: the daemon finds it and calls it.
    @Test func theCLibrarysTrimIsFoundAndRuns() {
        #expect(MemoryTrim.releaseFreePages())
    }

    #if canImport(Glibc)
    /// Whether glibc served `pointer` from its own mapping: the IS_MMAPPED bit (2) of the chunk's size word, which
    /// sits just before the block.
    private static func isMapped(_ pointer: UnsafeMutableRawPointer) -> Bool {
        pointer.load(fromByteOffset: -MemoryLayout<UInt>.size, as: UInt.self) & 2 != 0
    }

    /// Left alone, glibc raises its mmap threshold to the size of a freed mapped block, and the next large block comes
    /// from an arena. With the threshold pinned, a large block after a larger one was freed is still its own mapping.
    @Test func largeBlocksStayMappedAfterALargerOneWasFreed() throws {
        #expect(MemoryTrim.fixMapThreshold())
        let big = try #require(malloc(8 << 20))
        #expect(Self.isMapped(big))
        free(big)
        let large = try #require(malloc(MemoryTrim.mapThreshold * 2))
        defer { free(large) }
        #expect(Self.isMapped(large))
        let small = try #require(malloc(1024))
        defer { free(small) }
        #expect(!Self.isMapped(small))
    }
    #endif
}
