import MultiNICCore

/// macvlan: each pod interface gets its own MAC on the master NIC; mode bridge, private, vepa or passthru.
struct MACVLANBackend: NativeAttaching {
    let link = LinkBackend(type: "macvlan", modes: ["bridge", "private", "vepa", "passthru"])

    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        try link.render(input)
    }

    func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue {
        link.delegateConfig(for: attachment)
    }

    func attach(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) -> PodLinkState {
        try link.attachNatively(attachment, ifName: ifName, links: links)
    }

    func detach(ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        try link.detachNatively(ifName: ifName, links: links)
    }

    func check(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        try link.checkNatively(attachment, ifName: ifName, links: links)
    }
}

private let registration = PluginRegistration(backend: MACVLANBackend(), names: ["macvlan"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
