import MultiNICCore

/// costOpt: the fewest NICs whose available bandwidth adds up to the target (the pod's `target`, else the
/// network's `attachPolicy.target`), least-loaded first. When even every NIC falls short it takes them all and
/// says so. Without a target it takes the `nics` (default 1) least-loaded NICs. `nics` caps the count.
struct CostOptPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        let ranked = SelectionSupport.byAvailableBandwidth(base.ordered)
        guard let target = try SelectionSupport.target(request: request, context: context) else {
            let picked = ranked.map { ($0.candidate, "no bandwidth target: least loaded, \(SelectionSupport.describeLoad($0.candidate))") }
            return SelectionSupport.take(picked, count: request.nics ?? 1, skipped: base.skipped)
        }
        let goal = SelectionSupport.formatBandwidth(target)
        let total = ranked.reduce(0) { $0 + ($1.candidate.availableMbps ?? 0) }
        var sum = 0
        var needed = 0
        for entry in ranked where sum < target {
            sum += entry.candidate.availableMbps ?? 0
            needed += 1
        }
        let reachable = sum >= target
        let count = min(request.nics ?? needed, reachable ? needed : ranked.count)
        var running = 0
        let picked = ranked.map { entry -> SelectionSupport.Ranked in
            running += entry.candidate.availableMbps ?? 0
            let load = SelectionSupport.describeLoad(entry.candidate)
            let reason = reachable
                ? "\(load); \(SelectionSupport.formatBandwidth(running)) of \(goal) so far"
                : "\(load); target \(goal) unreachable: all NICs give \(SelectionSupport.formatBandwidth(total))"
            return (entry.candidate, reason)
        }
        // NICs past the count were left out because the target was met, unless the pod's `nics` cut them.
        let cutByNICs = request.nics.map { $0 < (reachable ? needed : ranked.count) } ?? false
        return SelectionSupport.take(picked, count: count, skipped: base.skipped,
                                     leftOut: cutByNICs ? nil : "not needed: \(goal) reached")
    }
}

private let registration = PluginRegistration(policy: CostOptPolicy(), names: ["costOpt"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
