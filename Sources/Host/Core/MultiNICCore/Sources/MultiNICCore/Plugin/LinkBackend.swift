/// The shared shape of the link backends (ipvlan, macvlan): a virtual link on the selected master NIC with a mode
/// and an MTU. Each backend is this helper with its own type name and modes.
public struct LinkBackend: Sendable, Hashable {
    /// The CNI plugin type, e.g. `ipvlan`.
    public let type: String
    /// Modes the plugin accepts.
    public let modes: [String]

    public init(type: String, modes: [String]) {
        self.type = type
        self.modes = modes
    }

    /// `{cniVersion, type, master?, mode?, mtu?}` from `plugin.args` (master is only a default: each pod
    /// interface gets the NIC the policy selected).
    public func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        let spec = input.network.spec.plugin
        var args = PluginArguments(spec.args, backend: type)
        var plugin: [String: JSONValue] = ["cniVersion": .string(spec.cniVersion), "type": .string(type)]
        if let master = args.string("master") { plugin["master"] = .string(master) }
        if let mode = args.string("mode", allowed: modes) { plugin["mode"] = .string(mode) }
        if let mtu = args.integer("mtu", range: 68...65535) { plugin["mtu"] = .integer(Int64(mtu)) }
        return BackendRendering(plugin: plugin, warnings: try args.finish())
    }

    /// The rendered plugin config with the selected master and static IPAM.
    public func delegateConfig(for attachment: NICAttachment) -> JSONValue {
        var fields = DelegateConfig.carriedFields(of: attachment.plugin)
        fields["master"] = .string(attachment.master)
        return DelegateConfig.make(type: type, attachment: attachment, fields: fields)
    }
}
