import MultiNICCore
import Synchronization

/// The host's ``LinkOperations`` for one pod: masters are found and links created through a socket in the host's
/// namespace (where the NICs are), straight into the pod's namespace; everything after that goes through a socket
/// opened inside the pod's namespace. Every name is validated before the kernel sees it.
public final class NetlinkLinkOperations: LinkOperations {
    let host: LinuxNetlink
    let pod: LinuxNetlink
    let podNamespacePath: String
    /// Pod interface name → index, learnt once per interface (an attach addresses, routes and sets up the same link).
    private let indices = Mutex<[String: Int32]>([:])

    /// `podNamespacePath`: the runtime's `CNI_NETNS` (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`).
    public init(host: LinuxNetlink, podNamespacePath: String) throws(NetlinkError) {
        self.host = host
        self.podNamespacePath = podNamespacePath
        pod = try NetworkNamespace.netlink(path: podNamespacePath)
    }

    static func failure(_ error: NetlinkError) -> LinkOperationError { LinkOperationError(error.description) }

    private static func validated(_ ifName: String) throws(LinkOperationError) -> String {
        guard LinuxInterfaceName.isValid(ifName) else { throw LinkOperationError("interface name \"\(ifName)\" is not a Linux interface name") }
        return ifName
    }

    /// The index of pod interface `ifName`: looked up once, then remembered.
    private func podIndex(_ ifName: String) throws(LinkOperationError) -> Int32 {
        let name = try Self.validated(ifName)
        if let known = indices.withLock({ $0[name] }) { return known }
        let found: LinkInfo?
        do {
            found = try pod.link(named: name)
        } catch {
            throw Self.failure(error)
        }
        guard let found else { throw LinkOperationError("no interface \(name) in \(podNamespacePath)") }
        indices.withLock { $0[name] = found.index }
        return found.index
    }

    public func createLink(_ request: VirtualLinkRequest, master: String, ifName: String) throws(LinkOperationError) {
        do throws(NetlinkError) {
            guard LinuxInterfaceName.isValid(master), let masterLink = try host.link(named: master) else {
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
            let link = try NewVirtualLink(name: ifName, masterIndex: masterLink.index, kind: kind, mtu: request.mtu, macAddress: mac,
                                          group: Self.group(ofPerNIC: ifName))
            try host.create(link, inNamespaceAt: podNamespacePath)
        } catch {
            throw Self.failure(error)
        }
    }

    public func addAddress(_ address: IPNetwork, ifName: String) throws(LinkOperationError) {
        let index = try podIndex(ifName)
        do {
            try pod.perform([.addAddress(index: index, address)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func addRoute(_ route: PodRoute, ifName: String) throws(LinkOperationError) {
        let index = try podIndex(ifName)
        do {
            try pod.perform([.addRoute(index: index, destination: route.destination, gateway: route.gateway)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func setUp(ifName: String) throws(LinkOperationError) {
        let index = try podIndex(ifName)
        do {
            // One round trip: both stand on their own (arp_notify is read when the link comes up).
            try pod.perform([.enableARPNotify(index: index), .setUp(index: index)])
        } catch {
            throw Self.failure(error)
        }
    }

    public func deleteLink(ifName: String) throws(LinkOperationError) {
        let name = try Self.validated(ifName)
        indices.withLock { $0[name] = nil }
        do {
            guard let link = try pod.link(named: name) else { return }
            let pod = pod
            try LinkRemoval.remove(indices: [link.index], inNamespaceAt: podNamespacePath) { () throws(NetlinkError) in
                try pod.deleteLink(link)
            }
        } catch .kernel(errno: 19, _) {
            return  // gone meanwhile
        } catch {
            throw Self.failure(error)
        }
    }

    /// One kernel batch (`ip link del group`) when the links are exactly their attachment's group; else one by one.
    /// Returns when the kernel has announced them deleted (``LinkRemoval``), not after it has freed them.
    public func deleteLinks(ifNames: [String]) throws(LinkOperationError) {
        let names = Set(try ifNames.map { (name) throws(LinkOperationError) -> String in try Self.validated(name) })
        guard !names.isEmpty else { return }
        indices.withLock { known in names.forEach { known[$0] = nil } }
        do {
            let all = try pod.links()
            let present = all.filter { names.contains($0.name) }
            let groups = Set(present.map(\.group))
            let pod = pod
            if present.count > 1, groups.count == 1, let group = groups.first, group != 0,
               all.filter({ $0.group == group }).count == present.count {
                try LinkRemoval.remove(indices: Set(present.map(\.index)), inNamespaceAt: podNamespacePath) { () throws(NetlinkError) in
                    try pod.deleteLinks(group: group)
                }
                return
            }
            try LinkRemoval.remove(indices: Set(present.map(\.index)), inNamespaceAt: podNamespacePath) { () throws(NetlinkError) in
                for link in present {
                    do throws(NetlinkError) {
                        try pod.deleteLink(link)
                    } catch .kernel(errno: 19, _) {
                        continue  // gone meanwhile
                    }
                }
            }
        } catch {
            throw Self.failure(error)
        }
    }

    /// The link group of per-NIC interface `ifName` (`net1-0` → the group of `net1`): FNV-1a of the attachment's
    /// name in 2^30…2^31-1, away from the small numbers people pick by hand and within what `ip link … group N`
    /// accepts (a signed 32-bit number). A group is only ever deleted whole when it holds exactly the links being
    /// deleted, so a collision costs speed, never a foreign link.
    static func group(ofPerNIC ifName: String) -> UInt32 {
        let attachment = ifName.lastIndex(of: "-").map { String(ifName[..<$0]) } ?? ifName
        var hash: UInt32 = 2_166_136_261
        for byte in attachment.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return (hash & 0x3fff_ffff) | 0x4000_0000
    }

    public func linkKinds() throws(LinkOperationError) -> [String: String] {
        do {
            return Dictionary(try pod.links().map { ($0.name, $0.kind) }) { first, _ in first }
        } catch {
            throw Self.failure(error)
        }
    }

    public func state(ifName: String) throws(LinkOperationError) -> PodLinkState? {
        let name = try Self.validated(ifName)
        do {
            guard let link = try pod.link(named: name) else { return nil }
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
