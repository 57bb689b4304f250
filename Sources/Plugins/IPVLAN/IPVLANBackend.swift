import MultiNICCore

/// ipvlan: pod interfaces share the master NIC's MAC; mode l2, l3 (the seed's default) or l3s.
struct IPVLANBackend: LinkBackedPlugin {
    let link = LinkBackend(type: "ipvlan", modes: ["l2", "l3", "l3s"])
}

private let registration = PluginRegistration(backend: IPVLANBackend(), names: ["ipvlan"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
