import MultiNICCore
import MultiNICNetlink

extension DaemonServices {
    /// `/addl3`: the network's full route set for this host; applied idempotently into the network's own table.
    public func addL3(_ request: L3Request) -> L3Response {
        do {
            let routes = try networkRoutes(request)
            let report = self.routes.set(routes)
            let summary = "table \(routes.table): \(report.added) added, \(report.replaced) replaced, \(report.deleted) removed,"
                + " \(report.unchanged) unchanged"
            // A route via a NIC without link (cable out, switch port down) is in the table but carries nothing.
            let used = Set(request.routes.map(\.iface))
            let unlinked = ((try? netlink.links()) ?? []).filter { used.contains($0.name) && !$0.hasCarrier }.map {
                "\($0.name) has no link: its routes cannot carry traffic"
            }
            let failures = report.failures + unlinked.sorted()
            return L3Response(success: failures.isEmpty, msg: failures.isEmpty ? summary : summary + "; " + failures.joined(separator: "; "))
        } catch {
            return L3Response(success: false, msg: error.description)
        }
    }

    /// A kernel change: a route or rule in one of our tables is repaired; a link or address change makes the
    /// next selection rediscover the NICs.
    public func notice(_ event: NetlinkEvent) {
        switch event {
        case .table(let table): routes.noticeChange(inTable: table)
        case .link, .address: invalidateInterfaces()
        }
    }

    /// `/deletel3`: removes the network's routes and rule.
    public func deleteL3(_ request: L3Request) -> L3Response {
        do {
            try routes.remove(network: request.name)
            return L3Response(success: true, msg: "")
        } catch {
            return L3Response(success: false, msg: error.description)
        }
    }

    /// `/addroute` and `/deleteroute`: one route in the main table (upstream's legacy calls), stamped as ours.
    public func mainTableRoute(_ route: L3Route, delete: Bool) -> L3Response {
        do {
            let desired = try desiredRoute(route)
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

    private func networkRoutes(_ request: L3Request) throws(DaemonError) -> NetworkRoutes {
        guard !request.name.isEmpty else { throw .badRequest("name: the network name is required") }
        guard let subnet = IPNetwork(request.subnet) else { throw .badRequest("subnet: \"\(request.subnet)\" is not a CIDR") }
        let table: UInt32
        do {
            table = try tables.tableID(for: request.name)
        } catch {
            throw .failure("routing table for \(request.name): \(error.localizedDescription)")
        }
        var desired: [DesiredRoute] = []
        for route in request.routes { desired.append(try desiredRoute(route)) }
        return NetworkRoutes(network: request.name, table: table, ruleSources: [subnet.normalized], routes: desired)
    }

    private func desiredRoute(_ route: L3Route) throws(DaemonError) -> DesiredRoute {
        guard let destination = IPNetwork(route.net) else { throw .badRequest("routes: net \"\(route.net)\" is not a CIDR") }
        guard let gateway = IPAddress(route.via) else { throw .badRequest("routes: via \"\(route.via)\" is not an address") }
        guard !route.iface.isEmpty else { throw .badRequest("routes: iface is required") }
        return DesiredRoute(destination: destination.normalized, gateway: gateway, interfaceName: route.iface)
    }
}
