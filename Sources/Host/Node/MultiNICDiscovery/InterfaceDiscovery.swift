import Foundation
import MultiNICCore
import MultiNICNetlink

/// What discovery looks at, and what it lets through.
public struct DiscoveryOptions: Sendable, Hashable {
    /// Root of the sysfs tree (`/sys`; tests point it at a fake tree).
    public var sysfsRoot: String
    /// Virtual link kinds accepted as NICs (e.g. `veth`, `macvlan` for the lab and tests). Empty: physical only.
    public var virtualKinds: Set<String>
    /// Name prefixes of pod interfaces left behind on the host, never reported.
    public var podInterfacePrefixes: [String]

    public init(sysfsRoot: String = "/sys", virtualKinds: Set<String> = [], podInterfacePrefixes: [String] = ["net1"]) {
        self.sysfsRoot = sysfsRoot
        self.virtualKinds = virtualKinds
        self.podInterfacePrefixes = podInterfacePrefixes
    }
}

/// Finds the host's secondary NICs: PCI network controllers (class 0x02) from sysfs, plus virtual links of allowed
/// kinds, that are up, have an address, do not carry the default route's network, and are not pod interfaces.
public struct InterfaceDiscovery: Sendable {
    public let netlink: any RouteNetlink
    public let options: DiscoveryOptions

    public init(netlink: any RouteNetlink, options: DiscoveryOptions = DiscoveryOptions()) {
        self.netlink = netlink
        self.options = options
    }

    /// The discovered NICs (by name), followed by `unmanaged` entries not already present.
    public func discover(unmanaged: [InterfaceInfo] = []) throws(NetlinkError) -> [InterfaceInfo] {
        let devices = PCIDevices(sysfsRoot: options.sysfsRoot).networkDevicesByInterface()
        let links = try netlink.links()
        let addresses = try netlink.addresses()
        let defaultNetworks = try defaultRouteNetworks(links: links, addresses: addresses)
        var found: [InterfaceInfo] = []
        for link in links.sorted(by: { $0.name < $1.name }) {
            let device = devices[link.name]
            guard device != nil || options.virtualKinds.contains(link.kind) else { continue }
            guard link.isUp, !options.podInterfacePrefixes.contains(where: { link.name.hasPrefix($0) }) else { continue }
            let own = addresses.filter { $0.linkIndex == link.index && !Self.isLinkLocal($0.address.address) }
            let v4 = own.first { $0.address.family == .v4 }?.address
            let v6 = own.first { $0.address.family == .v6 }?.address
            guard let primary = v4 ?? v6 else { continue }
            guard !defaultNetworks.contains(primary.normalized) else { continue }
            var info = InterfaceInfo(
                interfaceName: link.name, netAddress: primary.normalized.description, hostIP: primary.address.description,
                vendor: device?.vendor ?? "", product: device?.product ?? "", pciAddress: device?.address ?? "",
                numaNode: device?.numaNode, speedMbps: PCIDevices.speed(sysfsRoot: options.sysfsRoot, interface: link.name),
                mtu: link.mtu, sriovVFs: device?.sriovVFs, pcieRoot: device?.pcieRoot, pcieRootPort: device?.rootPort)
            if v4 != nil, let v6 {
                info.netAddressV6 = v6.normalized.description
                info.hostIPv6 = v6.address.description
            }
            found.append(info)
        }
        for extra in unmanaged where !found.contains(where: { $0.interfaceName == extra.interfaceName }) {
            found.append(extra)
        }
        return found
    }

    /// Networks of the links that carry a default route (main table): never secondary NICs.
    private func defaultRouteNetworks(links: [LinkInfo], addresses: [AddressInfo]) throws(NetlinkError) -> Set<IPNetwork> {
        let defaults = try netlink.routes(table: 254).filter { $0.destination.prefixLength == 0 }
        let indices = Set(defaults.compactMap(\.outputIndex))
        return Set(addresses.filter { indices.contains($0.linkIndex) }.map(\.address.normalized))
    }

    static func isLinkLocal(_ address: IPAddress) -> Bool {
        switch address.family {
        case .v4: IPNetwork("169.254.0.0/16")?.contains(address) ?? false
        case .v6: IPNetwork("fe80::/10")?.contains(address) ?? false
        }
    }
}
