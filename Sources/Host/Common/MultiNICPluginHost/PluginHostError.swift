import MultiNICCore

/// Why a plugin could not be loaded or found. Every case names the file(s) or lists what is available.
public enum PluginHostError: Error, Sendable, Hashable, CustomStringConvertible {
    /// None of the plugin directories exists.
    case noDirectory(tried: [String])
    /// dlopen refused the file (not a shared library, missing dependency, …).
    case openFailed(path: String, reason: String)
    /// The file or its directory is not trusted: a symlink, not a regular file, not owned by root (or this process's
    /// user), or writable by group or others.
    case untrusted(path: String, reason: String)
    /// The library has no `multinic_plugin_entry` symbol.
    case notAPlugin(path: String)
    /// The plugin was built for another ABI version.
    case abiMismatch(path: String, plugin: UInt32, host: UInt32)
    /// The entry returned nothing usable.
    case badRegistration(path: String)
    /// Two libraries register the same name.
    case duplicateName(kind: PluginKind, name: String, first: String, second: String)
    /// `plugin.type` names no loaded backend.
    case unknownBackend(String, available: [String])
    /// `attachPolicy.strategy` names no loaded policy.
    case unknownPolicy(String, available: [String])

    public var description: String {
        switch self {
        case .noDirectory(let tried):
            "no plugins directory: tried \(tried.joined(separator: ", ")); build the plugins (.ci/build-plugins) or pass --plugins-dir"
        case .openFailed(let path, let reason): "\(path): cannot load: \(reason)"
        case .untrusted(let path, let reason): "\(path): not loaded: \(reason)"
        case .notAPlugin(let path): "\(path): not a MultiNIC plugin (no \(PluginABI.entrySymbol) symbol)"
        case .abiMismatch(let path, let plugin, let host):
            PluginABI.version(of: plugin) == PluginABI.version(of: host)
                ? "\(path): built against another MultiNIC core (ABI \(PluginABI.version(of: host)), layout stamp "
                    + "\(Self.hex(plugin)) here \(Self.hex(host))); rebuild the plugin against this SDK"
                : "\(path): built for plugin ABI \(PluginABI.version(of: plugin)), this host speaks ABI "
                    + "\(PluginABI.version(of: host)); rebuild the plugin against this SDK"
        case .badRegistration(let path): "\(path): \(PluginABI.entrySymbol) returned no registration"
        case .duplicateName(let kind, let name, let first, let second):
            "\(kind) \"\(name)\" is registered twice: by \(first) and by \(second); remove one"
        case .unknownBackend(let name, let available):
            "no backend \"\(name)\" (spec.plugin.type); loaded: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        case .unknownPolicy(let name, let available):
            "no attach policy \"\(name)\" (spec.attachPolicy.strategy); loaded: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
        }
    }

    static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
