#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file helpers shared by the CNI binaries (no Foundation), the journal and the private-file writer: whole
/// writes and reads that retry `EINTR`, and the durable replace (temporary file, fsync, rename, directory fsync).
/// Failures return `errno`.
public enum FileIO {
    /// Writes all of `bytes`; `nil` on success, else the errno.
    public static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? EIO : errno }
            offset += count
        }
        return nil
    }

    /// Reads until end of file; `nil` on a read error.
    public static func readAll(from descriptor: Int32) -> [UInt8]? {
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return content }
            content += buffer[0..<count]
        }
    }

    /// The bytes of the file at `path`, or `nil` when it does not exist or cannot be read.
    public static func readFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        return readAll(from: descriptor)
    }

    /// fsyncs the directory `path` (makes a rename in it durable); failures are ignored (not every filesystem can).
    public static func syncDirectory(_ path: String) {
        let descriptor = open(path.isEmpty ? "/" : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    /// Replaces `path` with `bytes` durably: writes `temporary` (mode 0600), fsyncs it, renames it over `path` and
    /// fsyncs the directory, so a crash leaves the old or the new content, never a mix. Returns the errno and the
    /// step that failed.
    public static func replace(_ path: String, with bytes: [UInt8], temporary: String)
        -> (errno: Int32, step: String)?
    {
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return (errno, "cannot create \(temporary)") }
        if let failure = writeAll(bytes, to: descriptor) {
            close(descriptor)
            unlink(temporary)
            return (failure, "cannot write \(temporary)")
        }
        let synced = fsync(descriptor) == 0
        let failure = errno
        close(descriptor)
        guard synced, rename(temporary, path) == 0 else {
            let reason = synced ? errno : failure
            unlink(temporary)
            return (reason, "cannot store \(path)")
        }
        syncDirectory(String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]))
        return nil
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace and newlines: what a token, namespace or sysfs number file holds. The
    /// standard library's own, so that a node binary need not load Foundation (`trimmingCharacters(in:)` is there).
    public var trimmedWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
