import MultiNICCore

/// roundrobin: the `nics` (default 1) NICs with the fewest attached pods, so consecutive pods take turns.
struct RoundRobinPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        let turns = base.ordered.enumerated().sorted { lhs, rhs in
            let (left, right) = (lhs.element.candidate.attachments, rhs.element.candidate.attachments)
            return left != right ? left < right : lhs.offset < rhs.offset
        }.map { ($0.element.candidate, "\($0.element.candidate.attachments) pod(s) attached") }
        return SelectionSupport.take(turns, count: request.nics ?? 1, skipped: base.skipped)
    }
}

private let registration = PluginRegistration(policy: RoundRobinPolicy(), names: ["roundrobin"], version: "0.1.0-example")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
