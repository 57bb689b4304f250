import MultiNICCore
import MultiNICNetlink

extension DaemonServices {
    /// `/addl3`: the network's full route set for this host; applied idempotently into the network's own table, with
    /// a rule for `subnet` (the pods' source addresses).
    public func setRoutes(network: String, subnet: IPNetwork, routes desired: [DesiredRoute]) -> L3Response {
        do {
            let routes = try networkRoutes(network: network, subnet: subnet, routes: desired)
            let report = self.routes.set(routes)
            let summary = "table \(routes.table): \(report.added) added, \(report.replaced) replaced, \(report.deleted) removed,"
                + " \(report.unchanged) unchanged" + (report.adopted > 0 ? ", \(report.adopted) adopted" : "")
            let failures = report.failures + Self.unlinked(Set(desired.map(\.interfaceName)), down: linksWithoutCarrier())
            return L3Response(success: failures.isEmpty, msg: failures.isEmpty ? summary : summary + "; " + failures.joined(separator: "; "))
        } catch {
            return L3Response(success: false, msg: error.description)
        }
    }

    /// Every network's route problems: what its last convergence could not apply, and every NIC its routes leave
    /// through that has no link (checked now: a cable pulled after the routes were set counts). Networks without
    /// problems are absent.
    public func routeProblems() -> [String: [String]] {
        let down = linksWithoutCarrier()
        var problems: [String: [String]] = [:]
        let interfaces = routes.interfaces
        for (network, report) in routes.reports {
            let found = report.failures + Self.unlinked(interfaces[network] ?? [], down: down)
            if !found.isEmpty { problems[network] = found }
        }
        return problems
    }

    /// A route via a NIC without link (cable out, switch port down) is in the table but carries nothing.
    static func unlinked(_ used: Set<String>, down: Set<String>) -> [String] {
        used.intersection(down).sorted().map { "\($0) has no link: its routes cannot carry traffic" }
    }

    private func linksWithoutCarrier() -> Set<String> {
        Set(((try? netlink.links()) ?? []).filter { !$0.hasCarrier }.map(\.name))
    }

    /// A kernel change: a route or rule in one of our tables is repaired; a link or address change makes the
    /// next selection rediscover the NICs, and a link change restores lent NICs that are back.
    public func notice(_ event: NetlinkEvent) {
        switch event {
        case .table(let table): routes.noticeChange(inTable: table)
        case .link:
            invalidateInterfaces()
            // A lent NIC may be back (its pod's DEL, or its namespace gone): restored off the event loop.
            if !lentDevices.names.isEmpty { OSThread.detach { [self] in restoreReturnedDevices() } }
        case .address: invalidateInterfaces()
        }
    }

    /// `/deletel3`: removes the network's routes and rule.
    public func deleteRoutes(network: String) -> L3Response {
        do {
            try routes.remove(network: network)
            return L3Response(success: true, msg: "")
        } catch {
            return L3Response(success: false, msg: error.description)
        }
    }

    /// `/addroute` and `/deleteroute`: one route in the main table (upstream's legacy calls), stamped as ours.
    public func mainTableRoute(_ desired: DesiredRoute, delete: Bool) -> L3Response {
        do {
            let links = try netlink.links()
            guard let link = links.first(where: { $0.name == desired.interfaceName }) else {
                return L3Response(success: false, msg: "no interface \(desired.interfaceName)")
            }
            let info = RouteInfo(table: 254, destination: desired.destination, gateway: desired.gateway, outputIndex: link.index)
            let failures = try netlink.apply([delete ? .delete(info) : .replace(info)])
            return L3Response(success: failures.isEmpty, msg: failures.map(\.error.description).joined(separator: "; "))
        } catch {
            return L3Response(success: false, msg: "\(error)")
        }
    }

    private func networkRoutes(network: String, subnet: IPNetwork, routes: [DesiredRoute]) throws(DaemonError) -> NetworkRoutes {
        let table: UInt32
        do {
            table = try tables.tableID(for: network)
        } catch {
            throw .failure("routing table for \(network): \(error)")
        }
        return NetworkRoutes(network: network, table: table, ruleSources: [subnet], routes: routes)
    }
}
