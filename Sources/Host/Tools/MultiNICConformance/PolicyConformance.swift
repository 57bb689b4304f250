import MultiNICCore

/// A policy's ranking invariants on a fixed node of four NICs (two NUMA nodes, two PCIe roots, speeds, one NIC
/// already loaded): only candidates come back, none twice; `masters` is honoured; `nics` caps the count; every
/// candidate gets a decision with a reason. A typed refusal (``PolicyError``) is allowed for a request the policy
/// cannot serve, but not for all of them.
public enum PolicyConformance {
    struct Case {
        var label: String
        var request: PodRequest
    }

    static let candidates: [NICCandidate] = (1...4).map { index in
        NICCandidate(name: "eth\(index)", netAddress: "10.0.\(index).0/24", vendor: "15b3", product: "1019",
                     pciAddress: "0000:\(index < 3 ? "18" : "af"):00.\(index)", numaNode: index < 3 ? 0 : 1,
                     speedMbps: index * 25_000, attachments: index == 2 ? 3 : 0,
                     pcieRoot: index < 3 ? "pci0000:17" : "pci0000:ae")
    }

    static let context = SelectionContext(
        masterNets: candidates.map(\.netAddress), strategyTarget: "10Gbps",
        deviceClasses: ["fast": DeviceClassSpec(ids: [DeviceID(vendor: "15b3", products: ["1019"])])],
        gpusPerNUMA: [1: 2], gpus: [PCILocation(pciAddress: "0000:af:10.0", numaNode: 1, pcieRoot: "pci0000:ae")])

    static let cases: [Case] = [
        Case(label: "a pod asking nothing", request: PodRequest()),
        Case(label: "nics: 2", request: PodRequest(nics: 2)),
        Case(label: "nics: 1 with a device class", request: PodRequest(nics: 1, deviceClass: "fast")),
        Case(label: "masters: eth3, eth1", request: PodRequest(masters: ["eth3", "eth1"])),
        Case(label: "masters: eth4 and nics: 1", request: PodRequest(nics: 1, masters: ["eth4"])),
    ]

    /// The invariants for `policy`, one line per request shape.
    public static func check(_ policy: any AttachPolicy) -> [ConformanceCheck] {
        var checks: [ConformanceCheck] = []
        var answered = 0
        for item in cases {
            let name = "ranking for \(item.label)"
            let selection: Selection
            do {
                selection = try policy.select(candidates, request: item.request, context: context)
            } catch {
                checks.append(ConformanceCheck(name, .passed, "refused: \(error)"))
                continue
            }
            answered += 1
            let problems = problems(selection, request: item.request)
            checks.append(.expect(name, problems.isEmpty, problems.joined(separator: "; ")))
        }
        let empty = Result { () throws(PolicyError) in try policy.select([], request: PodRequest(), context: context) }
        checks.append(.expect("a node without NICs gets none", (try? empty.get())?.chosen.isEmpty ?? true,
                              "chose NICs from an empty list"))
        checks.append(.expect("answers at least one request shape", answered > 0, "refused every request"))
        return checks
    }

    /// What is wrong with `selection` for `request` (empty when nothing).
    static func problems(_ selection: Selection, request: PodRequest) -> [String] {
        var problems: [String] = []
        let names = Set(candidates.map(\.name))
        let chosen = selection.chosen.map(\.name)
        let foreign = chosen.filter { !names.contains($0) }
        if !foreign.isEmpty { problems.append("chose NICs that are not candidates: \(foreign.joined(separator: ", "))") }
        if Set(chosen).count != chosen.count { problems.append("chose a NIC twice: \(chosen.joined(separator: ", "))") }
        if let nics = request.nics, chosen.count > nics { problems.append("chose \(chosen.count) NICs for nics: \(nics)") }
        if !request.masters.isEmpty, let outside = chosen.first(where: { !request.masters.contains($0) }) {
            problems.append("chose \(outside), not in the pod's masters")
        }
        let unexplained = (selection.chosen + selection.skipped).filter { $0.reason.isEmpty }.map(\.name)
        if !unexplained.isEmpty { problems.append("no reason for \(unexplained.joined(separator: ", "))") }
        let decided = Set(selection.chosen.map(\.name) + selection.skipped.map(\.name))
        let silent = candidates.map(\.name).filter { !decided.contains($0) }
        if !silent.isEmpty { problems.append("no decision for \(silent.joined(separator: ", "))") }
        return problems
    }
}
