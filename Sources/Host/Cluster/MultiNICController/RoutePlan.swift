import MultiNICCore

/// L3 routes, pure: on host S, for every interface network i that S has and every other host D with a pod block on
/// it, `D.podCIDR via D.hostIP dev <S's NIC on i>`. Networks in `vlanMode` l3 and l3s get routes
/// (``VLANMode/needsRoutes``).
public enum RoutePlan {
    /// Whether `cidr`'s network gets host routes.
    public static func needsRoutes(_ cidr: CIDRSpec) -> Bool {
        cidr.config.mode.needsRoutes
    }

    /// The full route set of `cidr`'s network on `node` (empty routes when the node has no pod block).
    public static func request(_ cidr: CIDRSpec, node: String) -> L3Request {
        var routes: [L3Route] = []
        for entry in cidr.cidr.sorted(by: { $0.interfaceIndex < $1.interfaceIndex }) {
            guard let own = entry.hosts.first(where: { $0.hostName == node }) else { continue }
            for peer in entry.hosts.sorted(by: { $0.hostIndex < $1.hostIndex })
            where peer.hostName != node && !peer.hostIP.isEmpty && peer.hostIP != own.hostIP {
                routes.append(L3Route(net: peer.podCIDR, via: peer.hostIP, iface: own.interfaceName))
            }
        }
        return L3Request(name: cidr.config.name, subnet: cidr.config.subnet, routes: routes)
    }

    /// Hosts with a pod block in `cidr`.
    public static func hosts(_ cidr: CIDRSpec) -> Set<String> {
        Set(cidr.cidr.flatMap { $0.hosts.map(\.hostName) })
    }
}

/// What the route pushes answered, per network and node, for the networks' `routeStatus`.
public actor RouteLedger {
    public enum Outcome: Sendable, Hashable {
        case applied
        case failed(String)
    }

    private var outcomes: [String: [String: Outcome]] = [:]
    private var pushed: [String: [String: L3Request]] = [:]

    public init() {}

    /// Records a push's outcome; true when the outcome differs from the previous one.
    @discardableResult
    public func record(network: String, node: String, request: L3Request, outcome: Outcome) -> Bool {
        let changed = outcomes[network]?[node] != outcome
        outcomes[network, default: [:]][node] = outcome
        if outcome == .applied { pushed[node, default: [:]][network] = request } else { pushed[node]?[network] = nil }
        return changed
    }

    public func forget(network: String, node: String) {
        outcomes[network]?[node] = nil
        pushed[node]?[network] = nil
    }

    /// Forgets what was pushed to `node` (its daemon restarted: push everything again).
    public func reset(node: String) {
        pushed[node] = nil
    }

    /// The request last applied on `node` for `network`.
    public func applied(network: String, node: String) -> L3Request? { pushed[node]?[network] }

    /// Networks with routes applied on `node`.
    public func networks(on node: String) -> [String] { Array((pushed[node] ?? [:]).keys) }

    /// The network's route status over `hosts`: Success when every host applied its set, Failed (with the first
    /// failure) when one failed, WaitForRoutes otherwise.
    public func status(network: String, hosts: Set<String>) -> (RouteStatus, String?) {
        let known = outcomes[network] ?? [:]
        let failures = hosts.sorted().compactMap { host -> String? in
            if case .failed(let reason)? = known[host] { return "\(host): \(reason)" }
            return nil
        }
        if !failures.isEmpty { return (.failed, failures.joined(separator: "; ")) }
        return hosts.allSatisfy({ known[$0] == .applied }) ? (.success, nil) : (.waitForRoutes, nil)
    }
}
