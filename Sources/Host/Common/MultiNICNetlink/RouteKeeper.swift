#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore
import Dispatch
import Synchronization

/// A change the kernel reported.
public enum NetlinkEvent: Sendable, Hashable {
    /// A route or rule of this table changed.
    case table(UInt32)
    /// A link appeared, changed (up/down, MTU) or went away.
    case link(String)
    /// An address was added or removed on the link with this index.
    case address(linkIndex: Int32)
}

/// Link, address, route and rule notifications from the kernel (`ip monitor`), read on a dedicated thread.
public final class RouteEvents: Sendable {
    private let socket: NetlinkSocket
    private let running = Atomic<Bool>(false)

    /// Subscribes in the calling thread's namespace, or in the namespace at `namespacePath`.
    public init(namespacePath: String? = nil) throws(NetlinkError) {
        let groups = UInt32(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE
            | RTMGRP_IPV4_RULE)
        if let namespacePath {
            socket = try NetworkNamespace.socket(path: namespacePath, groups: groups)
        } else {
            socket = try NetlinkSocket(groups: groups)
        }
    }

    /// Calls `onEvent` for every change, until ``stop()``.
    public func start(_ onEvent: @escaping @Sendable (NetlinkEvent) -> Void) {
        guard !running.exchange(true, ordering: .acquiringAndReleasing) else { return }
        OSThread.detach { [self] in
            // A master's RTM_NEWLINK repeats unchanged whenever a macvlan/ipvlan is added on it or removed (each pod
            // attach): only a link whose state differs from the last report for its index is an event.
            var lastSeen: [Int32: LinkInfo] = [:]
            while running.load(ordering: .acquiring) {
                _ = try? socket.receive(timeoutMilliseconds: 250) { message in
                    switch Int32(message.pointee.nlmsg_type) {
                    case Int32(RTM_NEWROUTE), Int32(RTM_DELROUTE):
                        if let route = NetlinkMessages.parseRoute(message) { onEvent(.table(route.table)) }
                    case Int32(RTM_NEWRULE), Int32(RTM_DELRULE):
                        if let rule = NetlinkMessages.parseRule(message) { onEvent(.table(rule.table)) }
                    case Int32(RTM_NEWLINK):
                        if let link = NetlinkMessages.parseLink(message), lastSeen.updateValue(link, forKey: link.index) != link {
                            onEvent(.link(link.name))
                        }
                    case Int32(RTM_DELLINK):
                        if let link = NetlinkMessages.parseLink(message) {
                            lastSeen[link.index] = nil
                            onEvent(.link(link.name))
                        }
                    case Int32(RTM_NEWADDR), Int32(RTM_DELADDR):
                        if let address = NetlinkMessages.parseAddress(message) { onEvent(.address(linkIndex: address.linkIndex)) }
                    default:
                        break
                    }
                }
            }
        }
    }

    public func stop() {
        running.store(false, ordering: .releasing)
    }
}

/// Keeps every L3 network's table and rule converged: applies a network's desired routes when they are set, and
/// repairs drift (someone deleted or changed one of our routes) shortly after the kernel reports it.
public final class RouteKeeper: Sendable {
    private struct State {
        var networks: [String: NetworkRoutes] = [:]
        var reports: [String: RouteSyncReport] = [:]
        var repairScheduled = false
        var repairs = 0
    }

    private let sync: RouteSync
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "multinic.route-keeper")
    /// Delay between a drift event and the repair (events come in bursts).
    public let repairDelay: DispatchTimeInterval

    public init(netlink: any RouteNetlink, repairDelay: DispatchTimeInterval = .milliseconds(200)) {
        sync = RouteSync(netlink: netlink)
        self.repairDelay = repairDelay
    }

    /// Sets and applies a network's desired routes.
    @discardableResult
    public func set(_ routes: NetworkRoutes) -> RouteSyncReport {
        state.withLock { $0.networks[routes.network] = routes }
        return converge(routes)
    }

    /// Removes a network's routes and rule.
    public func remove(network: String) throws(NetlinkError) {
        guard let routes = state.withLock({ $0.networks.removeValue(forKey: network) }) else { return }
        _ = state.withLock { $0.reports.removeValue(forKey: network) }
        _ = try sync.remove(network: network, table: routes.table)
    }

    /// The last report of every network.
    public var reports: [String: RouteSyncReport] { state.withLock { $0.reports } }

    /// The interfaces each network's routes leave through.
    public var interfaces: [String: Set<String>] {
        state.withLock { $0.networks.mapValues { Set($0.routes.map(\.interfaceName)) } }
    }

    /// How many drift repairs ran.
    public var repairCount: Int { state.withLock { $0.repairs } }

    /// Called for every route/rule change event: schedules a repair when the table is one of ours.
    public func noticeChange(inTable table: UInt32) {
        let schedule = state.withLock { state -> Bool in
            guard state.networks.values.contains(where: { $0.table == table }), !state.repairScheduled else { return false }
            state.repairScheduled = true
            return true
        }
        guard schedule else { return }
        queue.asyncAfter(deadline: .now() + repairDelay) { [self] in
            let networks = state.withLock { state -> [NetworkRoutes] in
                state.repairScheduled = false
                state.repairs += 1
                return Array(state.networks.values)
            }
            for network in networks { converge(network) }
        }
    }

    @discardableResult
    private func converge(_ routes: NetworkRoutes) -> RouteSyncReport {
        let report: RouteSyncReport
        do {
            report = try sync.converge(routes)
        } catch {
            var failed = RouteSyncReport()
            failed.failures = [error.description]
            report = failed
        }
        state.withLock { $0.reports[routes.network] = report }
        return report
    }
}
