import MultiNICCore

/// none: the pod's masters in the order given, else masterNets order, else every NIC by network; then `nics`.
struct NonePolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        return SelectionSupport.take(base.ordered, count: request.nics, skipped: base.skipped)
    }
}

private let registration = PluginRegistration(policy: NonePolicy(), names: ["none"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
