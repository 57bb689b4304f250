/// What every attach policy shares: the base candidate order, truncation to `nics`, bandwidth arithmetic.
/// Policies differ only in how they rank; none of them repeats these rules.
public enum SelectionSupport {
    /// A candidate with the reason it is where it is.
    public typealias Ranked = (candidate: NICCandidate, reason: String)

    /// The NICs a pod may get, in base order: the pod's `masters` as given; else the network's masterNets order;
    /// else every NIC by network then name. NICs outside masterNets (when listed) have no pool and are skipped.
    public static func baseOrder(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext)
        -> (ordered: [Ranked], skipped: [NICDecision])
    {
        var skipped: [NICDecision] = []
        var allowed = candidates
        if !context.masterNets.isEmpty {
            allowed = candidates.filter { context.masterNets.contains($0.netAddress) }
            skipped += candidates.filter { !context.masterNets.contains($0.netAddress) }
                .map { NICDecision($0, "network \($0.netAddress) is not in the network's masterNets") }
        }
        if !request.masters.isEmpty {
            var ordered: [Ranked] = []
            for (position, master) in request.masters.enumerated() where !ordered.contains(where: { $0.candidate.name == master }) {
                if let candidate = allowed.first(where: { $0.name == master }) {
                    ordered.append((candidate, "pod masters[\(position)]"))
                } else if !skipped.contains(where: { $0.name == master }) {
                    skipped.append(NICDecision(name: master, netAddress: "", reason: "requested in masters but not a usable NIC on this host"))
                }
            }
            skipped += allowed.filter { candidate in !request.masters.contains(candidate.name) }
                .map { NICDecision($0, "not in the pod's masters") }
            return (ordered, skipped)
        }
        if !context.masterNets.isEmpty {
            let ordered = context.masterNets.enumerated().flatMap { position, net in
                allowed.filter { $0.netAddress == net }.sorted { $0.name < $1.name }
                    .map { ($0, "masterNets[\(position)] \(net)") }
            }
            return (ordered, skipped)
        }
        let ordered = allowed.sorted { ($0.netAddress, $0.name) < ($1.netAddress, $1.name) }
            .map { ($0, "network \($0.netAddress)") }
        return (ordered, skipped)
    }

    /// Chooses the first `count` ranked NICs (all when `nil`); the rest are skipped with `leftOut` as the reason
    /// (by default: beyond the pod's `nics`).
    public static func take(_ ranked: [Ranked], count: Int?, skipped: [NICDecision], leftOut: String? = nil) -> Selection {
        let limit = min(count ?? ranked.count, ranked.count)
        let chosen = ranked.prefix(limit).map { NICDecision($0.candidate, $0.reason) }
        let reason = leftOut ?? "beyond the pod's nics=\(limit)"
        let beyond = ranked.dropFirst(limit).map { NICDecision($0.candidate, reason) }
        return Selection(chosen: chosen, skipped: skipped + beyond)
    }

    /// Ranks by available bandwidth, most first (unknown speeds last); equal bandwidth goes to the NIC with fewer
    /// attached pods, then base order — so pods spread evenly over NICs of the same speed.
    public static func byAvailableBandwidth(_ ranked: [Ranked]) -> [Ranked] {
        ranked.enumerated().sorted { lhs, rhs in
            let (left, right) = (lhs.element.candidate, rhs.element.candidate)
            if left.availableMbps != right.availableMbps { return (left.availableMbps ?? -1) > (right.availableMbps ?? -1) }
            if left.attachments != right.attachments { return left.attachments < right.attachments }
            return lhs.offset < rhs.offset
        }.map(\.element)
    }

    /// The bandwidth target in Mbit/s: the pod's `target`, else the network's; `nil` when neither is set.
    public static func target(request: PodRequest, context: SelectionContext) throws(PolicyError) -> Int? {
        guard let text = request.target ?? context.strategyTarget, !text.isEmpty else { return nil }
        guard let mbps = parseBandwidth(text) else { throw .badTarget(text) }
        return mbps
    }

    /// The largest bandwidth accepted: 1 Pbit/s (in Mbit/s). Larger values are refused, never converted.
    public static let maximumBandwidthMbps = 1_000_000_000

    /// Mbit/s from `25Gbps`, `800Mbps`, `1.5Tbps`, `10G`, `100M` (case-insensitive, `bps`/`b/s` optional); `nil` for
    /// text that is not a bandwidth or is not in 1 Mbit/s … 1 Pbit/s (a pod's `target: "1e300Gbps"` included).
    public static func parseBandwidth(_ text: String) -> Int? {
        guard text.utf8.count <= 64 else { return nil }
        var unit = text.trimmingCharacters(in: " ").lowercased()
        for suffix in ["bps", "b/s", "bit/s"] where unit.hasSuffix(suffix) { unit.removeLast(suffix.count) }
        let scale: Double
        switch unit.last {
        case "k": scale = 0.001
        case "m": scale = 1
        case "g": scale = 1000
        case "t": scale = 1_000_000
        default: return nil
        }
        unit.removeLast()
        guard let value = Double(unit.trimmingCharacters(in: " ")), value > 0, value.isFinite else { return nil }
        return CheckedNumber.integer(value * scale, in: 1...maximumBandwidthMbps)
    }

    /// `25Gbps`, `2.5Gbps`, `800Mbps`.
    public static func formatBandwidth(_ mbps: Int) -> String {
        if mbps >= 1000 {
            let gbps = Double(mbps) / 1000
            return gbps == gbps.rounded() ? "\(Int(gbps))Gbps" : "\(gbps)Gbps"
        }
        return "\(mbps)Mbps"
    }

    /// `25Gbps free of 100Gbps, 3 pods` / `speed unknown`.
    public static func describeLoad(_ candidate: NICCandidate) -> String {
        guard let speed = candidate.speedMbps, let available = candidate.availableMbps else {
            return "link speed unknown, \(candidate.attachments) pod(s)"
        }
        return "\(formatBandwidth(available)) free of \(formatBandwidth(speed)), \(candidate.attachments) pod(s)"
    }
}

extension String {
    /// The string without leading and trailing `character`s.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
