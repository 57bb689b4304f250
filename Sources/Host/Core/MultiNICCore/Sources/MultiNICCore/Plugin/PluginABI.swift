/// The contract between the host and a plugin library (`.so` in plugins.d).
///
/// A plugin exports one C symbol, ``PluginABI/entrySymbol``, of type ``PluginEntryFunction``. The host calls it with
/// its own ABI version and a place for the plugin's; the plugin always writes its version there and returns its
/// registration only when the two match. The host compares the versions before it touches the returned pointer.
public enum PluginABI {
    /// Bumped whenever a protocol, registration or model type that crosses the boundary changes incompatibly.
    /// 4: backends may conform to ``NativeAttaching`` (the host casts to it), ``LinkOperations`` crosses the boundary.
    public static let version: UInt32 = 4
    /// The one symbol every plugin exports.
    public static let entrySymbol = "multinic_plugin_entry"

    /// The body of a plugin's entry function: report the ABI version, then hand over the registration retained
    /// (the host takes ownership) when the host speaks the same version.
    public static func export(_ registration: PluginRegistration, hostABI: UInt32,
                              pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
        pluginABI?.pointee = version
        guard hostABI == version else { return nil }
        return Unmanaged.passRetained(registration).toOpaque()
    }
}

/// `multinic_plugin_entry(hostABI, &pluginABI) -> registration or NULL`.
public typealias PluginEntryFunction = @convention(c) (UInt32, UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer?

/// What a plugin provides.
public enum PluginKind: String, Sendable, Hashable, CaseIterable {
    /// A main-plugin backend (`plugin.type`: ipvlan, macvlan, sriov, …).
    case backend
    /// An attach policy (`attachPolicy.strategy`: none, costOpt, …).
    case policy
}

/// What a plugin library registers: its kind, the names it answers to, its version and the implementation.
/// Immutable; created once per library and kept for the life of the process.
public final class PluginRegistration: Sendable {
    public let kind: PluginKind
    /// Names it is found by (`plugin.type` or `attachPolicy.strategy` values).
    public let names: [String]
    /// The plugin's own version, for `multinicctl plugins list`.
    public let version: String
    public let backend: (any MainPlugin)?
    public let policy: (any AttachPolicy)?

    /// A backend registration.
    public init(backend: any MainPlugin, names: [String], version: String) {
        kind = .backend
        self.names = names
        self.version = version
        self.backend = backend
        policy = nil
    }

    /// A policy registration.
    public init(policy: any AttachPolicy, names: [String], version: String) {
        kind = .policy
        self.names = names
        self.version = version
        backend = nil
        self.policy = policy
    }
}
