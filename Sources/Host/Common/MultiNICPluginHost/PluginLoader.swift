#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MultiNICCore

/// Loads plugin libraries with dlopen. Libraries are opened `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and never
/// closed: a plugin's code and types stay valid for the life of the process.
public enum PluginLoader {
    /// Where to look when no directory is given: `plugins.d` next to the executable, then /opt/multinic/plugins.d.
    /// `MULTINIC_PLUGINS_DIR` overrides both.
    public static func defaultDirectories() -> [String] {
        if let override = ProcessInfo.processInfo.environment["MULTINIC_PLUGINS_DIR"], !override.isEmpty {
            return [override]
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return [executable.deletingLastPathComponent().appendingPathComponent("plugins.d").path,
                "/opt/multinic/plugins.d"]
    }

    /// The first existing directory of `candidates`.
    public static func firstExistingDirectory(_ candidates: [String]) throws(PluginHostError) -> String {
        for path in candidates {
            var info = stat()
            if stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { return path }
        }
        throw .noDirectory(tried: candidates)
    }

    /// The `*.so` files of a directory, by name.
    public static func libraries(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") }.sorted().map { directory + "/" + $0 }
    }

    /// Why `info` (of a plugin file or its directory) is not trusted, or `nil`: owned by root or by this process's
    /// user, and not writable by group or others (a library's constructors run as soon as it is opened, before any
    /// ABI check, so only files an administrator put there may be opened).
    static func distrust(_ info: stat) -> String? {
        guard info.st_uid == 0 || info.st_uid == geteuid() else { return "owned by uid \(info.st_uid), not root" }
        guard info.st_mode & (S_IWGRP | S_IWOTH) == 0 else {
            return "writable by group or others (mode " + String(info.st_mode & 0o7777, radix: 8) + ")"
        }
        return nil
    }

    /// Checks `path` without following a symlink, and its directory (see ``distrust(_:)``): since the directory is
    /// writable only by root (or this user), the file checked is the file `dlopen` then opens by the same path (which
    /// keeps `$ORIGIN` for the library's own dependencies).
    public static func checkTrusted(_ path: String) throws(PluginHostError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        var directoryInfo = stat()
        guard stat(directory.isEmpty ? "/" : directory, &directoryInfo) == 0 else {
            throw .openFailed(path: path, reason: "cannot stat its directory: " + String(cString: strerror(errno)))
        }
        if let reason = distrust(directoryInfo) { throw .untrusted(path: path, reason: "its directory is " + reason) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else {
            let reason = errno == ELOOP ? "a symbolic link (plugins are loaded from regular files only)" : String(cString: strerror(errno))
            throw errno == ELOOP ? .untrusted(path: path, reason: reason) : .openFailed(path: path, reason: reason)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .untrusted(path: path, reason: "not a regular file")
        }
        close(descriptor)
        if let reason = distrust(info) { throw .untrusted(path: path, reason: reason) }
    }

    /// Opens one library (a trusted regular file, see ``checkTrusted(_:)``), checks its ABI version, and returns its
    /// registration.
    public static func load(path: String) throws(PluginHostError) -> PluginRegistration {
        try checkTrusted(path)
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw .openFailed(path: path, reason: lastError())
        }
        // Never dlclose: RTLD_NODELETE keeps the code mapped even if the handle were closed.
        guard let symbol = dlsym(handle, PluginABI.entrySymbol) else { throw .notAPlugin(path: path) }
        let entry = unsafeBitCast(symbol, to: PluginEntryFunction.self)
        var pluginABI: UInt32 = 0
        let result = entry(PluginABI.stamp, &pluginABI)
        guard pluginABI == PluginABI.stamp else {
            throw .abiMismatch(path: path, plugin: pluginABI, host: PluginABI.stamp)
        }
        guard let result else { throw .badRegistration(path: path) }
        // Same ABI: the pointer is a retained PluginRegistration from the shared core library.
        let object = Unmanaged<AnyObject>.fromOpaque(result).takeRetainedValue()
        guard let registration = object as? PluginRegistration else { throw .badRegistration(path: path) }
        return registration
    }

    private static func lastError() -> String {
        dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
    }
}
