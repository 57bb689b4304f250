#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// Small files that must survive a crash or power loss: written to a temporary name, fsynced, renamed over the
/// target, and the directory fsynced. POSIX only (the CNI binaries avoid Foundation).
enum DurableFile {
    /// Creates `directory` and its parents (mode 0700).
    static func makeDirectory(_ directory: String) throws(CNIError) {
        var path = ""
        for component in directory.split(separator: "/") {
            path += "/" + component
            if mkdir(path, 0o700) != 0 && errno != EEXIST {
                throw CNIError(CNIError.ioFailure, "cannot create \(path)", details: String(cString: strerror(errno)))
            }
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws(CNIError) {
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        try makeDirectory(directory)
        if let failure = FileIO.replace(path, with: bytes, temporary: "\(path).tmp.\(getpid())") {
            throw CNIError(CNIError.ioFailure, failure.step, details: String(cString: strerror(failure.errno)))
        }
    }

    /// Removes the file; a file that is already gone is fine.
    static func remove(_ path: String) {
        _ = unlink(path)
    }

}
