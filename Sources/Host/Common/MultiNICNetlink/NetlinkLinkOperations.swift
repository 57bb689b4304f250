import MultiNICCore

/// The host's ``LinkOperations`` for one pod: masters are found and links created through a socket in the host's
/// namespace (where the NICs are), straight into the pod's namespace; everything after that goes through a socket
/// opened inside the pod's namespace. Every name is validated before the kernel sees it.
public final class NetlinkLinkOperations: LinkOperations {
    let host: LinuxNetlink
    let pod: LinuxNetlink
    let podNamespacePath: String

    /// `podNamespacePath`: the runtime's `CNI_NETNS` (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`).
    public init(host: LinuxNetlink, podNamespacePath: String) throws(NetlinkError) {
        self.host = host
        self.podNamespacePath = podNamespacePath
        pod = try NetworkNamespace.netlink(path: podNamespacePath)
    }

    static func failure(_ error: NetlinkError) -> LinkOperationError { LinkOperationError(error.description) }

    private func podLink(_ ifName: String) throws(LinkOperationError) -> LinkInfo {
        guard NewVirtualLink.isValidName(ifName) else { throw LinkOperationError("interface name \"\(ifName)\" is not a Linux interface name") }
        let found: LinkInfo?
        do {
            found = try pod.link(named: ifName)
        } catch {
            throw Self.failure(error)
        }
        guard let found else { throw LinkOperationError("no interface \(ifName) in \(podNamespacePath)") }
        return found
    }

    public func createLink(_ request: VirtualLinkRequest, master: String, ifName: String) throws(LinkOperationError) {
        do throws(NetlinkError) {
            guard NewVirtualLink.isValidName(master), let masterLink = try host.link(named: master) else {
                throw .invalid("master \"\(master)\": no such host interface")
            }
            let kind: NewVirtualLink.Kind
            switch request.kind {
            case .macvlan(let mode):
                guard let parsed = MACVLANMode(rawValue: mode) else { throw .invalid("macvlan mode \"\(mode)\"") }
                kind = .macvlan(parsed)
            case .ipvlan(let mode, let flag):
                guard let parsedMode = IPVLANMode(rawValue: mode), let parsedFlag = IPVLANFlag(rawValue: flag) else {
                    throw .invalid("ipvlan mode \"\(mode)\" \(flag)")
                }
                kind = .ipvlan(parsedMode, parsedFlag)
            }
            var mac: [UInt8]?
            if let text = request.macAddress {
                guard let parsed = NewVirtualLink.parse(mac: text) else { throw .invalid("mac \"\(text)\": not aa:bb:cc:dd:ee:ff") }
                mac = parsed
            }
            let link = try NewVirtualLink(name: ifName, masterIndex: masterLink.index, kind: kind, mtu: request.mtu, macAddress: mac)
            try host.create(link, inNamespaceAt: podNamespacePath)
        } catch {
            throw Self.failure(error)
        }
    }

    public func addAddress(_ address: IPNetwork, ifName: String) throws(LinkOperationError) {
        let link = try podLink(ifName)
        do {
            try pod.perform([.addAddress(index: link.index, address)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func addRoute(_ route: PodRoute, ifName: String) throws(LinkOperationError) {
        let link = try podLink(ifName)
        do {
            try pod.perform([.addRoute(index: link.index, destination: route.destination, gateway: route.gateway)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func setUp(ifName: String) throws(LinkOperationError) {
        let link = try podLink(ifName)
        do {
            try pod.perform([.enableARPNotify(index: link.index)])
            try pod.perform([.setUp(index: link.index)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func deleteLink(ifName: String) throws(LinkOperationError) {
        guard NewVirtualLink.isValidName(ifName) else { throw LinkOperationError("interface name \"\(ifName)\" is not a Linux interface name") }
        do {
            guard let link = try pod.link(named: ifName) else { return }
            try pod.deleteLink(link)
        } catch .kernel(errno: 19, _) {
            return  // gone meanwhile
        } catch {
            throw Self.failure(error)
        }
    }

    public func state(ifName: String) throws(LinkOperationError) -> PodLinkState? {
        guard NewVirtualLink.isValidName(ifName) else { throw LinkOperationError("interface name \"\(ifName)\" is not a Linux interface name") }
        do {
            guard let link = try pod.link(named: ifName) else { return nil }
            let addresses = try pod.addresses().filter { $0.linkIndex == link.index }.map(\.address)
            let routes = try pod.routes(table: 254)
                .filter { $0.outputIndex == link.index && $0.routingProtocol == UInt8(3) }  // proto boot: the attach's
                .map { PodRoute(destination: $0.destination, gateway: $0.gateway) }
            return PodLinkState(name: link.name, kind: link.kind, mode: Self.modeName(kind: link.kind, value: link.kindMode),
                                mtu: link.mtu, macAddress: link.macAddress, isUp: link.isUp, addresses: addresses, routes: routes)
        } catch {
            throw Self.failure(error)
        }
    }

    static func modeName(kind: String, value: UInt32?) -> String? {
        guard let value else { return nil }
        switch kind {
        case "macvlan": return MACVLANMode(kernelValue: value)?.rawValue
        case "ipvlan": return IPVLANMode.allCases.first { UInt32($0.kernelValue) == value }?.rawValue
        default: return nil
        }
    }
}
