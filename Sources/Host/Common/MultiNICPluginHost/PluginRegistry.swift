import MultiNICCore

/// A loaded plugin, for listings.
public struct PluginInfo: Sendable, Hashable {
    public var kind: PluginKind
    public var names: [String]
    public var version: String
    public var path: String
}

/// The backends and policies of one plugins directory, by name.
public struct PluginRegistry: Sendable {
    /// Every plugin that loaded, in file order.
    public private(set) var plugins: [PluginInfo] = []
    private var backends: [String: (plugin: any MainPlugin, path: String)] = [:]
    private var policies: [String: (policy: any AttachPolicy, path: String)] = [:]

    /// An empty registry (add registrations with ``register(_:path:)``).
    public init() {}

    /// Loads every `*.so` of `directory`. A file that fails (not a plugin, ABI mismatch, duplicate name) is
    /// reported and left out; the others load.
    public static func load(directory: String) -> (registry: PluginRegistry, errors: [PluginHostError]) {
        var registry = PluginRegistry()
        var errors: [PluginHostError] = []
        for path in PluginLoader.libraries(in: directory) {
            do {
                try registry.register(PluginLoader.load(path: path), path: path)
            } catch {
                errors.append(error)
            }
        }
        return (registry, errors)
    }

    /// Loads the first existing default directory (or the given one).
    public static func load(directory: String?) throws(PluginHostError) -> (registry: PluginRegistry, errors: [PluginHostError]) {
        if let directory { return load(directory: directory) }
        return load(directory: try PluginLoader.firstExistingDirectory(PluginLoader.defaultDirectories()))
    }

    /// Adds a registration; a name already taken is an error naming both files.
    public mutating func register(_ registration: PluginRegistration, path: String) throws(PluginHostError) {
        for name in registration.names {
            let existing = registration.kind == .backend ? backends[name]?.path : policies[name]?.path
            if let existing {
                throw .duplicateName(kind: registration.kind, name: name, first: existing, second: path)
            }
        }
        for name in registration.names {
            if let backend = registration.backend { backends[name] = (backend, path) }
            if let policy = registration.policy { policies[name] = (policy, path) }
        }
        plugins.append(PluginInfo(kind: registration.kind, names: registration.names, version: registration.version,
                                  path: path))
    }

    /// Names of the loaded backends, sorted.
    public var backendNames: [String] { backends.keys.sorted() }

    /// Names of the loaded policies, sorted.
    public var policyNames: [String] { policies.keys.sorted() }

    /// The backend for `plugin.type`.
    public func backend(_ name: String) throws(PluginHostError) -> any MainPlugin {
        guard let entry = backends[name] else { throw .unknownBackend(name, available: backendNames) }
        return entry.plugin
    }

    /// The policy for `attachPolicy.strategy`.
    public func policy(_ name: String) throws(PluginHostError) -> any AttachPolicy {
        guard let entry = policies[name] else { throw .unknownPolicy(name, available: policyNames) }
        return entry.policy
    }
}
