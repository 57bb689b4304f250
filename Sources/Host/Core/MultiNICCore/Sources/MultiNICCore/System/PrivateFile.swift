#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Secret material on disk (tokens, keys): a fresh directory from `mkdtemp` (0700, a name nobody can predict) and
/// files created with `O_EXCL | O_NOFOLLOW` at 0600, so nothing is ever written through a planted symlink or into a
/// file another user opened first.
public enum PrivateFile {
    /// A new directory `<parent>/<prefix>XXXXXX` (mode 0700).
    public static func makeDirectory(in parent: String = "/tmp", prefix: String) throws(PrivateFileError) -> String {
        var template = Array((parent + "/" + prefix + "XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            return mkdtemp(base) != nil
        }
        guard made else { throw PrivateFileError("cannot create a directory in \(parent): " + String(cString: strerror(errno))) }
        return String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Writes `bytes` to a new file `path` (mode 0600). An existing file (or symlink) at `path` is removed first and the
    /// file is then created exclusively: if anything appears in between, the write fails instead of following it.
    public static func store(_ bytes: [UInt8], at path: String) throws(PrivateFileError) {
        if unlink(path) != 0 && errno != ENOENT {
            throw PrivateFileError("cannot replace \(path): " + String(cString: strerror(errno)))
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw PrivateFileError("cannot create \(path): " + String(cString: strerror(errno))) }
        defer { close(descriptor) }
        if let failure = FileIO.writeAll(bytes, to: descriptor) {
            throw PrivateFileError("cannot write \(path): " + String(cString: strerror(failure)))
        }
    }
}

/// A private file or directory could not be made.
public struct PrivateFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
