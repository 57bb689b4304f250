import MultiNICCore

/// ipvlan: pod interfaces share the master NIC's MAC; mode l2, l3 (the seed's default) or l3s.
struct IPVLANBackend: NativeAttaching {
    let link = LinkBackend(type: "ipvlan", modes: ["l2", "l3", "l3s"])

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

private let registration = PluginRegistration(backend: IPVLANBackend(), names: ["ipvlan"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
