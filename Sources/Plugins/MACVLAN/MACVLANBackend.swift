import MultiNICCore

/// macvlan: each pod interface gets its own MAC on the master NIC; mode bridge, private, vepa or passthru.
struct MACVLANBackend: LinkBackedPlugin {
    let link = LinkBackend(type: "macvlan", modes: ["bridge", "private", "vepa", "passthru"])
}

private let registration = PluginRegistration(backend: MACVLANBackend(), names: ["macvlan"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
