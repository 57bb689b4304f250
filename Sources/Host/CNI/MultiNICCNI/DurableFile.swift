#if canImport(Glibc)
import Glibc
#endif

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
        let temporary = "\(path).tmp.\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                close(descriptor)
                unlink(temporary)
                throw failure("cannot write", temporary)
            }
            written += count
        }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard synced, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw failure("cannot store", path)
        }
        let directoryDescriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// The file's bytes, or nil when it does not exist or cannot be read.
    static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = Glibc.read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return content }
            content += buffer[0..<count]
        }
    }

    /// Removes the file; a file that is already gone is fine.
    static func remove(_ path: String) {
        _ = unlink(path)
    }

    private static func failure(_ what: String, _ path: String) -> CNIError {
        CNIError(CNIError.ioFailure, "\(what) \(path)", details: String(cString: strerror(errno)))
    }
}
