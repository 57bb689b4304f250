import MultiNICCore

/// topology: NICs on the NUMA nodes holding most of the pod's GPUs first (ties keep base order, which honours the
/// pod's masters — upstream ignored them), then `nics`. NUMA comes from the device's own sysfs `numa_node`.
struct TopologyPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        func gpus(_ candidate: NICCandidate) -> Int {
            candidate.numaNode.flatMap { context.gpusPerNUMA[$0] } ?? 0
        }
        let ranked = base.ordered.enumerated().sorted { lhs, rhs in
            let (left, right) = (gpus(lhs.element.candidate), gpus(rhs.element.candidate))
            return left != right ? left > right : lhs.offset < rhs.offset
        }.map { _, entry -> SelectionSupport.Ranked in
            let candidate = entry.candidate
            guard let numa = candidate.numaNode else { return (candidate, "NUMA node unknown; \(entry.reason)") }
            return (candidate, "NUMA \(numa) holds \(gpus(candidate)) of the pod's GPUs; \(entry.reason)")
        }
        return SelectionSupport.take(ranked, count: request.nics, skipped: base.skipped)
    }
}

private let registration = PluginRegistration(policy: TopologyPolicy(), names: ["topology"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
