import MultiNICCore

/// bridge: each selected host NIC gets a Linux bridge named `<prefix><master>` and the pod a veth into it.
struct BridgeBackend: MainPlugin {
    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        let spec = input.network.spec.plugin
        var args = PluginArguments(spec.args, backend: "bridge")
        var plugin: [String: JSONValue] = ["cniVersion": .string(spec.cniVersion), "type": .string("bridge"),
                                           "bridgePrefix": .string(args.string("bridgePrefix") ?? "mnbr-")]
        if let mtu = args.integer("mtu", range: 68...65535) { plugin["mtu"] = .integer(Int64(mtu)) }
        return BackendRendering(plugin: plugin, warnings: try args.finish())
    }

    func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue {
        var fields = DelegateConfig.carriedFields(of: attachment.plugin)
        let prefix = fields.removeValue(forKey: "bridgePrefix")?.stringValue ?? "mnbr-"
        fields["bridge"] = .string(prefix + attachment.master)
        return DelegateConfig.make(type: "bridge", attachment: attachment, fields: fields)
    }
}

private let registration = PluginRegistration(backend: BridgeBackend(), names: ["bridge"], version: "0.1.0-example")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
