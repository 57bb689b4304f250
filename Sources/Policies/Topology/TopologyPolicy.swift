import MultiNICCore

/// topology: NICs close to the pod's GPUs first. With the GPUs' places on the PCIe tree (the node found them through
/// the kubelet): the GPUs take turns, each taking its closest remaining NIC — one behind the same PCIe switch (root
/// port), else under the same host bridge (PCIe root), else on the same NUMA node — so two GPUs on two roots get one
/// NIC each before either gets a second; then every other NIC. With only a GPU count per NUMA node (given by hand),
/// NICs on the NUMA nodes holding most GPUs first. Ties keep the base order, which honours the pod's masters; `nics`
/// truncates.
struct TopologyPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        let ranked: [SelectionSupport.Ranked]
        if !context.gpus.isEmpty {
            ranked = Self.byPCIe(base.ordered, gpus: context.gpus)
        } else if !context.gpusPerNUMA.isEmpty {
            ranked = Self.byNUMACount(base.ordered, gpusPerNUMA: context.gpusPerNUMA)
        } else {
            ranked = base.ordered.map { ($0.candidate, "topology unknown: no GPU of the pod found; \($0.reason)") }
        }
        return SelectionSupport.take(ranked, count: request.nics, skipped: base.skipped)
    }

    /// How close a NIC is to a GPU: 3 same root port, 2 same PCIe root, 1 same NUMA node, 0 not close.
    static func closeness(_ nic: PCILocation, _ gpu: PCILocation) -> (score: Int, why: String) {
        if let port = nic.rootPort, port == gpu.rootPort {
            return (3, "shares PCIe switch (root port \(port)) with GPU \(gpu.pciAddress)")
        }
        if let root = nic.pcieRoot, root == gpu.pcieRoot { return (2, "shares PCIe root \(root) with GPU \(gpu.pciAddress)") }
        if let numa = nic.numaNode, numa == gpu.numaNode { return (1, "on NUMA node \(numa) with GPU \(gpu.pciAddress)") }
        return (0, "")
    }

    static func byPCIe(_ ordered: [(candidate: NICCandidate, reason: String)], gpus: [PCILocation]) -> [SelectionSupport.Ranked] {
        var remaining = ordered
        var result: [SelectionSupport.Ranked] = []
        var progress = true
        while progress && !remaining.isEmpty {
            progress = false
            for gpu in gpus {
                // The closest remaining NIC for this GPU; the first in base order among equals.
                var best: (index: Int, score: Int, why: String)?
                for (index, entry) in remaining.enumerated() {
                    let close = closeness(entry.candidate.location, gpu)
                    if close.score > 0 && close.score > (best?.score ?? 0) { best = (index, close.score, close.why) }
                }
                guard let best else { continue }
                let entry = remaining.remove(at: best.index)
                result.append((entry.candidate, "\(best.why); \(entry.reason)"))
                progress = true
            }
        }
        let gpuList = gpus.map(\.pciAddress).joined(separator: ", ")
        return result + remaining.map { ($0.candidate, "not near the pod's GPUs (\(gpuList)); \($0.reason)") }
    }

    static func byNUMACount(_ ordered: [(candidate: NICCandidate, reason: String)], gpusPerNUMA: [Int: Int]) -> [SelectionSupport.Ranked] {
        func gpus(_ candidate: NICCandidate) -> Int { candidate.numaNode.flatMap { gpusPerNUMA[$0] } ?? 0 }
        return ordered.enumerated().sorted { lhs, rhs in
            let (left, right) = (gpus(lhs.element.candidate), gpus(rhs.element.candidate))
            return left != right ? left > right : lhs.offset < rhs.offset
        }.map { _, entry -> SelectionSupport.Ranked in
            guard let numa = entry.candidate.numaNode else { return (entry.candidate, "NUMA node unknown; \(entry.reason)") }
            return (entry.candidate, "NUMA \(numa) holds \(gpus(entry.candidate)) of the pod's GPUs; \(entry.reason)")
        }
    }
}

private let registration = PluginRegistration(policy: TopologyPolicy(), names: ["topology"], version: "0.2.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
