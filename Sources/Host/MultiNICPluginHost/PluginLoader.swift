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
        var isDirectory: ObjCBool = false
        for path in candidates where FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return path }
        }
        throw .noDirectory(tried: candidates)
    }

    /// The `*.so` files of a directory, by name.
    public static func libraries(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".so") }.sorted().map { directory + "/" + $0 }
    }

    /// Opens one library, checks its ABI version, and returns its registration.
    public static func load(path: String) throws(PluginHostError) -> PluginRegistration {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw .openFailed(path: path, reason: lastError())
        }
        // Never dlclose: RTLD_NODELETE keeps the code mapped even if the handle were closed.
        guard let symbol = dlsym(handle, PluginABI.entrySymbol) else { throw .notAPlugin(path: path) }
        let entry = unsafeBitCast(symbol, to: PluginEntryFunction.self)
        var pluginABI: UInt32 = 0
        let result = entry(PluginABI.version, &pluginABI)
        guard pluginABI == PluginABI.version else {
            throw .abiMismatch(path: path, plugin: pluginABI, host: PluginABI.version)
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
