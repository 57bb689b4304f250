import MultiNICCore

/// The routes one L3 network wants on this host: a table of its own, a rule sending traffic from the network's
/// subnet to it, and a route to every other host's pod block via that host's address on the shared NIC network.
public struct NetworkRoutes: Sendable, Hashable {
    public var network: String
    public var table: UInt32
    /// Sources of the policy rule (the global subnet; one per family).
    public var ruleSources: [IPNetwork]
    public var routes: [DesiredRoute]

    public init(network: String, table: UInt32, ruleSources: [IPNetwork], routes: [DesiredRoute]) {
        self.network = network
        self.table = table
        self.ruleSources = ruleSources
        self.routes = routes
    }
}

/// `<destination> via <gateway> dev <interface>`.
public struct DesiredRoute: Sendable, Hashable {
    public var destination: IPNetwork
    public var gateway: IPAddress
    public var interfaceName: String

    public init(destination: IPNetwork, gateway: IPAddress, interfaceName: String) {
        self.destination = destination
        self.gateway = gateway
        self.interfaceName = interfaceName
    }
}

/// What a convergence did.
public struct RouteSyncReport: Sendable, Hashable {
    public var added = 0
    public var replaced = 0
    public var deleted = 0
    public var unchanged = 0
    /// Routes another program had installed exactly as wanted (the original Multi-NIC CNI's daemon), taken over in
    /// place: replaced with MultiNIC's protocol, never removed first.
    public var adopted = 0
    /// Routes that could not be applied (missing NIC, unreachable gateway, a route we do not own in the way).
    public var failures: [String] = []

    public var inSync: Bool { failures.isEmpty }
}

/// Pure diff of a table's routes against the desired set.
public enum RouteDiff {
    /// The changes that turn `current` (the table as listed) into `desired`. Routes with another routing protocol
    /// are never deleted: one that is exactly a desired route (same destination, gateway and device: the original
    /// daemon's, in a taken-over cluster) is adopted by an in-place replace; one that differs is reported as a
    /// conflict instead.
    public static func changes(current: [RouteInfo], desired: [RouteInfo])
        -> (changes: [RouteChange], conflicts: [RouteInfo], unchanged: Int, adopted: Int)
    {
        var ours: [IPNetwork: RouteInfo] = [:]
        var foreign: [IPNetwork: RouteInfo] = [:]
        for route in current {
            if route.routingProtocol == RoutingProtocol.multinic { ours[route.destination] = route } else { foreign[route.destination] = route }
        }
        var changes: [RouteChange] = []
        var conflicts: [RouteInfo] = []
        var unchanged = 0
        var adopted = 0
        var wanted: Set<IPNetwork> = []
        for route in desired {
            wanted.insert(route.destination)
            if let other = foreign[route.destination] {
                if other.gateway == route.gateway && other.outputIndex == route.outputIndex && ours[route.destination] == nil {
                    changes.append(.replace(route))
                    adopted += 1
                } else {
                    conflicts.append(route)
                }
            } else if let existing = ours[route.destination], existing.gateway == route.gateway,
                      existing.outputIndex == route.outputIndex {
                unchanged += 1
            } else {
                changes.append(.replace(route))
            }
        }
        for (destination, route) in ours where !wanted.contains(destination) {
            changes.append(.delete(route))
        }
        return (changes, conflicts, unchanged, adopted)
    }
}

/// Converges one network's table and rule with netlink: idempotent, one batch, only its own routes.
public struct RouteSync: Sendable {
    public let netlink: any RouteNetlink
    /// Rule priority for the networks' rules (before the main table's 32766).
    public var rulePriority: UInt32 = 3000

    public init(netlink: any RouteNetlink) {
        self.netlink = netlink
    }

    /// Brings the table and rule of `network` to the desired state.
    public func converge(_ network: NetworkRoutes) throws(NetlinkError) -> RouteSyncReport {
        var report = RouteSyncReport()
        let links = try netlink.links()
        var desired: [RouteInfo] = []
        for route in network.routes {
            guard let link = links.first(where: { $0.name == route.interfaceName }) else {
                report.failures.append("\(route.destination) via \(route.gateway): no interface \(route.interfaceName)")
                continue
            }
            desired.append(RouteInfo(table: network.table, destination: route.destination.normalized,
                                     gateway: route.gateway, outputIndex: link.index))
        }
        let current = try netlink.routes(table: network.table)
        let diff = RouteDiff.changes(current: current, desired: desired)
        report.unchanged = diff.unchanged
        report.adopted = diff.adopted
        report.failures += diff.conflicts.map { "\($0.destination): table \(network.table) holds a route MultiNIC does not own" }
        let ours = Set(current.filter { $0.routingProtocol == RoutingProtocol.multinic }.map(\.destination))
        let existing = Set(current.map(\.destination))
        for change in diff.changes {
            switch change {
            case .replace(let route):
                if ours.contains(route.destination) { report.replaced += 1 } else if !existing.contains(route.destination) { report.added += 1 }
            case .delete: report.deleted += 1
            }
        }
        for failure in try netlink.apply(diff.changes) { report.failures.append(failure.error.description) }
        try ensureRules(network, report: &report)
        return report
    }

    /// Removes a network's routes (only ours) and rules.
    public func remove(network: String, table: UInt32) throws(NetlinkError) -> RouteSyncReport {
        var report = RouteSyncReport()
        let ours = try netlink.routes(table: table).filter { $0.routingProtocol == RoutingProtocol.multinic }
        report.deleted = ours.count
        for failure in try netlink.apply(ours.map(RouteChange.delete)) { report.failures.append(failure.error.description) }
        for rule in try netlink.rules() where rule.table == table && rule.routingProtocol == RoutingProtocol.multinic {
            try netlink.deleteRule(rule)
        }
        return report
    }

    private func ensureRules(_ network: NetworkRoutes, report: inout RouteSyncReport) throws(NetlinkError) {
        let rules = try netlink.rules()
        let wanted = network.ruleSources.map {
            RuleInfo(family: $0.family, source: $0.normalized, table: network.table, priority: rulePriority)
        }
        for rule in wanted where !rules.contains(where: { $0.table == rule.table && $0.source == rule.source && $0.family == rule.family }) {
            do {
                try netlink.addRule(rule)
            } catch {
                report.failures.append(error.description)
            }
        }
        for rule in rules where rule.table == network.table && rule.routingProtocol == RoutingProtocol.multinic
            && !wanted.contains(where: { $0.source == rule.source && $0.family == rule.family }) {
            try netlink.deleteRule(rule)
        }
    }
}
