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
        Index(cidr).request(node: node)
    }

    /// Hosts with a pod block in `cidr`.
    public static func hosts(_ cidr: CIDRSpec) -> Set<String> {
        Set(cidr.cidr.flatMap { $0.hosts.map(\.hostName) })
    }

    /// A CIDR's hosts sorted and indexed by name once: every node's route set is then one pass over the peers (a
    /// network on N nodes costs O(N) per node, not a sort and a search per node and interface).
    public struct Index: Sendable {
        struct Interface: Sendable {
            /// Hosts by host index.
            var hosts: [HostCIDR]
            /// Host name → its entry (the first listed, should a name appear twice).
            var own: [String: HostCIDR]
        }

        let name: String
        let subnet: String
        let interfaces: [Interface]
        /// Hosts with a pod block.
        public let hosts: Set<String>

        public init(_ cidr: CIDRSpec) {
            name = cidr.config.name
            subnet = cidr.config.subnet
            interfaces = cidr.cidr.sorted { $0.interfaceIndex < $1.interfaceIndex }.map { entry in
                var own: [String: HostCIDR] = [:]
                for host in entry.hosts where own[host.hostName] == nil { own[host.hostName] = host }
                return Interface(hosts: entry.hosts.sorted { $0.hostIndex < $1.hostIndex }, own: own)
            }
            hosts = RoutePlan.hosts(cidr)
        }

        /// The node's full route set.
        public func request(node: String) -> L3Request {
            var routes: [L3Route] = []
            for interface in interfaces {
                guard let own = interface.own[node] else { continue }
                routes.reserveCapacity(routes.count + interface.hosts.count)
                for peer in interface.hosts where peer.hostName != node && !peer.hostIP.isEmpty && peer.hostIP != own.hostIP {
                    routes.append(L3Route(net: peer.podCIDR, via: peer.hostIP, iface: own.interfaceName))
                }
            }
            return L3Request(name: name, subnet: subnet, routes: routes)
        }
    }
}

/// Route indexes by CIDR name and resourceVersion: one per version of a network's CIDR, shared by every node's push.
public actor RouteIndexCache {
    private var indexes: [String: (version: String, index: RoutePlan.Index)] = [:]

    public init() {}

    public func index(_ cidr: CIDR) -> RoutePlan.Index {
        let version = cidr.metadata.resourceVersion ?? ""
        if !version.isEmpty, let cached = indexes[cidr.name], cached.version == version { return cached.index }
        let index = RoutePlan.Index(cidr.spec)
        if !version.isEmpty { indexes[cidr.name] = (version, index) }
        return index
    }

    /// Drops the indexes of CIDRs not in `live`.
    public func keep(_ live: Set<String>) {
        indexes = indexes.filter { live.contains($0.key) }
    }
}

/// What the route pushes answered, per network and node, for the networks' `routeStatus`.
public actor RouteLedger {
    public enum Outcome: Sendable, Hashable {
        case applied
        case failed(String)
    }

    private var outcomes: [String: [String: Outcome]] = [:]
    /// A fingerprint of the set applied per node and network (a full copy would hold every node's routes to every
    /// other node: gigabytes at 5000 nodes).
    private var pushed: [String: [String: Int]] = [:]

    public init() {}

    /// Records a push's outcome; true when the outcome differs from the previous one.
    @discardableResult
    public func record(network: String, node: String, request: L3Request, outcome: Outcome) -> Bool {
        let changed = outcomes[network]?[node] != outcome
        outcomes[network, default: [:]][node] = outcome
        if outcome == .applied { pushed[node, default: [:]][network] = request.hashValue } else { pushed[node]?[network] = nil }
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

    /// Whether `request` is the set last applied on `node` for `network` (by fingerprint).
    public func isApplied(_ request: L3Request, network: String, node: String) -> Bool {
        pushed[node]?[network] == request.hashValue
    }

    /// Networks with routes applied on `node`.
    public func networks(on node: String) -> [String] { Array((pushed[node] ?? [:]).keys) }

    /// The hosts of `hosts` no push for `network` has answered yet (none was made since this controller started, or
    /// the CIDR was written by someone else — a takeover's copy).
    public func unanswered(network: String, hosts: Set<String>) -> Set<String> {
        let known = outcomes[network] ?? [:]
        return hosts.filter { known[$0] == nil }
    }

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
