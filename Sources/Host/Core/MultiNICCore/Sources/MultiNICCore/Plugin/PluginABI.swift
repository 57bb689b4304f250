/// The contract between the host and a plugin library (`.so` in plugins.d).
///
/// A plugin exports one C symbol, ``PluginABI/entrySymbol``, of type ``PluginEntryFunction``. The host calls it with
/// its own ABI version and a place for the plugin's; the plugin always writes its version there and returns its
/// registration only when the two match. The host compares the versions before it touches the returned pointer.
public enum PluginABI {
    /// Bumped whenever a protocol, registration or model type that crosses the boundary changes incompatibly.
    /// 4: backends may conform to ``NativeAttaching`` (the host casts to it), ``LinkOperations`` crosses the boundary.
    /// Emitted into the caller, like ``stamp``: each side reports the version it was compiled with, not the shared
    /// core's (the core is one library in the process, so a value read from it would always agree with itself).
    @_alwaysEmitIntoClient public static var version: UInt32 { 4 }

    /// What the entry function exchanges: ``version`` in the top byte and, below, a fingerprint of the memory layouts
    /// of the value types that cross the boundary — as the code asking was compiled. Swift lays these structs out at
    /// compile time in every client, so a plugin built before a field was added or removed has another fingerprint
    /// and is refused instead of reading the host's values with the wrong offsets. (Fields reordered within the same
    /// sizes, or a protocol's new requirement, still need ``version`` bumped.)
    @_alwaysEmitIntoClient public static var stamp: UInt32 {
        // Concrete structs only: the size of a generic instance (`Resource<Spec>`) is read from type metadata at run
        // time, i.e. from the core in the process, and would always agree.
        let sizes = [
            MemoryLayout<MultiNicNetworkSpec>.size, MemoryLayout<HostInterfaceSpec>.size, MemoryLayout<ObjectMeta>.size,
            MemoryLayout<PluginSpec>.size, MemoryLayout<AttachPolicySpec>.size, MemoryLayout<InterfaceInfo>.size,
            MemoryLayout<NetworkRenderInput>.size, MemoryLayout<BackendRendering>.size, MemoryLayout<NICAttachment>.size,
            MemoryLayout<PodIPAM>.size, MemoryLayout<NICCandidate>.size, MemoryLayout<PodRequest>.size,
            MemoryLayout<SelectionContext>.size, MemoryLayout<Selection>.size, MemoryLayout<NICDecision>.size,
            MemoryLayout<VirtualLinkRequest>.size, MemoryLayout<PodLinkState>.size, MemoryLayout<PCILocation>.size,
        ]
        var hash: UInt32 = 2_166_136_261
        for size in sizes {
            hash ^= UInt32(truncatingIfNeeded: size)
            hash = hash &* 16_777_619
        }
        return version << 24 | (hash & 0x00ff_ffff)
    }

    /// The one symbol every plugin exports.
    public static let entrySymbol = "multinic_plugin_entry"

    /// The body of a plugin's entry function: report the plugin's ``stamp``, then hand over the registration
    /// retained (the host takes ownership) when the host's stamp is the same. Emitted into the plugin.
    @_alwaysEmitIntoClient
    public static func export(_ registration: PluginRegistration, hostABI: UInt32,
                              pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
        pluginABI?.pointee = stamp
        guard hostABI == stamp else { return nil }
        return Unmanaged.passRetained(registration).toOpaque()
    }

    /// The ABI version of a stamp.
    public static func version(of stamp: UInt32) -> UInt32 { stamp >> 24 }
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
