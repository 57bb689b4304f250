#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore
import MultiNICNetlink

/// The pod's network namespace as CHECK and DEL see it (netlink inside the namespace, on a dedicated thread).
enum PodNamespace {
    /// Links and addresses in the namespace at `path`.
    static func snapshot(_ path: String) throws(CNIError) -> (links: [LinkInfo], addresses: [AddressInfo]) {
        guard access(path, F_OK) == 0 else { throw CNIError(CNIError.invalidNetNS, "network namespace \(path) does not exist") }
        do {
            let netlink = try NetworkNamespace.netlink(path: path)
            return (try netlink.links(), try netlink.addresses())
        } catch {
            throw CNIError(CNIError.ioFailure, "cannot inspect \(path)", details: error.description)
        }
    }

    /// Removes every `<ifName>-<k>` link left in the pod (a delegate that failed or could not be run). A missing
    /// namespace has nothing to remove. Returns the names removed.
    @discardableResult
    static func removePerNICLinks(_ path: String, ifName: String) -> [String] {
        guard access(path, F_OK) == 0, let netlink = try? NetworkNamespace.netlink(path: path),
              let links = try? netlink.links() else { return [] }
        // Only links a delegate or native attach made on a master: a NIC lent whole (host-device) or a VF is never
        // deleted here (its plugin's DEL returns it to the host).
        return links.filter { LinuxInterfaceName.isPerNIC($0.name, of: ifName) && VirtualLinkRequest.kernelKinds.contains($0.kind) }
            .compactMap { link in (try? netlink.deleteLink(link)) == nil ? nil : link.name }
    }

    /// Installs each NIC's static routes (``NICRoute``) on its interface in the pod, in the main table with the NIC's
    /// metric, so one destination over several NICs is several routes. Returns them for the CNI result.
    static func installRoutes(_ path: String, nics: [AttachedNIC]) throws(CNIError) -> [CNIResult.Route] {
        let wanted = nics.filter { !($0.routes ?? []).isEmpty }
        guard !wanted.isEmpty else { return [] }
        var added: [CNIResult.Route] = []
        do {
            let netlink = try NetworkNamespace.netlink(path: path)
            let links = try netlink.links()
            var changes: [RouteChange] = []
            for nic in wanted {
                guard let link = links.first(where: { $0.name == nic.ifName }) else {
                    throw CNIError(CNIError.ioFailure, "\(nic.ifName) is missing in the pod; cannot add its routes")
                }
                for entry in nic.routes ?? [] {
                    changes.append(.replace(RouteInfo(table: RouteInfo.mainTable, destination: entry.route.destination,
                                                      gateway: entry.route.gateway, outputIndex: link.index,
                                                      metric: entry.metric)))
                    added.append(CNIResult.Route(dst: entry.route.destination, gw: entry.route.gateway))
                }
            }
            if let failure = try netlink.apply(changes).first {
                throw CNIError(CNIError.ioFailure, "cannot add a pod route", details: failure.error.description)
            }
        } catch let error as CNIError {
            throw error
        } catch {
            throw CNIError(CNIError.ioFailure, "cannot add the pod routes in \(path)", details: "\(error)")
        }
        return added
    }

    /// What is wrong with the namespace compared with an ADD result: every interface with a sandbox must exist and
    /// be up, and carry each address the result gives it. Empty when all is as expected.
    static func problems(expected: CNIResult, links: [LinkInfo], addresses: [AddressInfo]) -> [String] {
        var problems: [String] = []
        for (position, interface) in expected.interfaces.enumerated() where !(interface.sandbox ?? "").isEmpty {
            guard let link = links.first(where: { $0.name == interface.name }) else {
                problems.append("\(interface.name) is missing")
                continue
            }
            if !link.isUp { problems.append("\(interface.name) is down") }
            let present = Set(addresses.filter { $0.linkIndex == link.index }.map(\.address))
            for ip in expected.ips where ip.interface == position && !present.contains(ip.address) {
                problems.append("\(interface.name) lacks \(ip.address)")
            }
        }
        return problems
    }
}
