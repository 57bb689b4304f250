import MultiNICCore

/// perfOpt: the `nics` NICs (default all) with the most available bandwidth; NICs of equal bandwidth go to the
/// one with fewer pods, so pods spread evenly. Unknown link speeds rank last.
struct PerfOptPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        let ranked = SelectionSupport.byAvailableBandwidth(base.ordered).map {
            ($0.candidate, SelectionSupport.describeLoad($0.candidate))
        }
        return SelectionSupport.take(ranked, count: request.nics, skipped: base.skipped)
    }
}

private let registration = PluginRegistration(policy: PerfOptPolicy(), names: ["perfOpt"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
