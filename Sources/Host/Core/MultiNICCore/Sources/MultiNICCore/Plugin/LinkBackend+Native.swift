/// Native attach for the link backends (macvlan, ipvlan): the same pod interface the delegate plugin makes from
/// ``LinkBackend/delegateConfig(for:)`` — the kind and mode on the selected master, the MTU, the allocated address
/// and the IPAM routes, up — made through the host's ``LinkOperations``.
extension LinkBackend {
    /// The link for `attachment`: mode and MTU from the rendered plugin config (as the delegate reads them: mode
    /// defaults to bridge for macvlan and l2 for ipvlan; MTU 0 or absent keeps the master's).
    public func linkRequest(for attachment: NICAttachment) throws(NativeAttachError) -> VirtualLinkRequest {
        let mode = attachment.plugin["mode"]?.stringValue ?? (type == "ipvlan" ? "l2" : "bridge")
        guard modes.contains(mode) else {
            throw .invalidConfig("plugin.mode \"\(mode)\": must be one of \(modes.joined(separator: ", "))")
        }
        var mtu: Int?
        if let value = attachment.plugin["mtu"] {
            guard let number = value.intValue, number == 0 || (68...65535).contains(number) else {
                throw .invalidConfig("plugin.mtu \(value): must be 0 or within 68...65535")
            }
            mtu = number == 0 ? nil : number
        }
        switch type {
        case "macvlan": return VirtualLinkRequest(kind: .macvlan(mode: mode), mtu: mtu)
        case "ipvlan": return VirtualLinkRequest(kind: .ipvlan(mode: mode, flag: "bridge"), mtu: mtu)
        default: throw .unsupported("no native link for type \(type)")
        }
    }

    /// The allocated address and routes; `.unsupported` for a delegated IPAM section (its plugin must run).
    static func addressing(of attachment: NICAttachment) throws(NativeAttachError) -> (IPNetwork, [PodRoute]) {
        guard case .allocated(let address, let routes) = attachment.ipam else {
            throw .unsupported("the network's own IPAM section runs as a delegate")
        }
        var podRoutes: [PodRoute] = []
        for route in routes {
            guard let typed = PodRoute(dst: route.dst, gw: route.gw) else {
                throw .invalidConfig("ipam route {dst: \"\(route.dst)\", gw: \"\(route.gw ?? "")\"}: dst must be a CIDR, gw an IP address")
            }
            podRoutes.append(typed)
        }
        return (address, podRoutes)
    }

    /// Creates, addresses, sets up and routes `ifName`; on any failure after the link exists, deletes it again.
    public func attachNatively(_ attachment: NICAttachment, ifName: String,
                               links: any LinkOperations) throws(NativeAttachError) -> PodLinkState {
        let (address, routes) = try Self.addressing(of: attachment)
        let request = try linkRequest(for: attachment)
        do {
            try links.createLink(request, master: attachment.master, ifName: ifName)
        } catch {
            throw .link(error)
        }
        do throws(LinkOperationError) {
            // Address, then up (the kernel's gratuitous ARP then carries the address), then routes (a gateway is
            // reachable only once the interface is up with its prefix).
            try links.addAddress(address, ifName: ifName)
            try links.setUp(ifName: ifName)
            for route in routes { try links.addRoute(route, ifName: ifName) }
            guard let state = try links.state(ifName: ifName) else { throw LinkOperationError("\(ifName) is gone right after it was made") }
            return state
        } catch {
            try? links.deleteLink(ifName: ifName)
            throw .link(error)
        }
    }

    public func detachNatively(ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        do {
            try links.deleteLink(ifName: ifName)
        } catch {
            throw .link(error)
        }
    }

    /// The interface exists, is this backend's kind and mode, is up, has the address and every route, and the MTU
    /// asked for.
    public func checkNatively(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        let (address, routes) = try Self.addressing(of: attachment)
        let request = try linkRequest(for: attachment)
        let found: PodLinkState?
        do {
            found = try links.state(ifName: ifName)
        } catch {
            throw .link(error)
        }
        guard let state = found else { throw .mismatch("\(ifName) is missing") }
        guard state.kind == type else { throw .mismatch("\(ifName) is a \(state.kind.isEmpty ? "device" : state.kind), not a \(type)") }
        let mode: String
        switch request.kind {
        case .macvlan(let value): mode = value
        case .ipvlan(let value, _): mode = value
        }
        if let actual = state.mode, actual != mode { throw .mismatch("\(ifName) is in mode \(actual), not \(mode)") }
        if let mtu = request.mtu, state.mtu != mtu { throw .mismatch("\(ifName) has MTU \(state.mtu), not \(mtu)") }
        guard state.isUp else { throw .mismatch("\(ifName) is down") }
        guard state.addresses.contains(address) else { throw .mismatch("\(ifName) lacks \(address)") }
        for route in routes where !state.routes.contains(route) { throw .mismatch("\(ifName) lacks the route \(route)") }
    }
}

/// A backend that is a ``LinkBackend`` under its own type name and modes (ipvlan, macvlan): rendering, delegate
/// configs and native attach all come from `link`.
public protocol LinkBackedPlugin: NativeAttaching {
    var link: LinkBackend { get }
}

extension LinkBackedPlugin {
    public func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        try link.render(input)
    }

    public func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue {
        link.delegateConfig(for: attachment)
    }

    public func attach(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) -> PodLinkState {
        try link.attachNatively(attachment, ifName: ifName, links: links)
    }

    public func detach(ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        try link.detachNatively(ifName: ifName, links: links)
    }

    public func check(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) {
        try link.checkNatively(attachment, ifName: ifName, links: links)
    }
}
