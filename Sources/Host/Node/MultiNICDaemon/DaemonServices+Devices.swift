import Logging
import MultiNICCore
import MultiNICNetlink

/// Log lines of the lent-device keeper (through the daemon's logging system).
private let deviceLog = Logger(label: "multi-nicd.devices")

/// NICs lent whole to pods (``WholeDeviceBackend``, host-device). The original project dropped such a NIC from
/// discovery while it was in a pod (its CIDR block went with it) and got it back as `net1-x` or not at all; here a
/// lent NIC stays reported (``InterfaceInfo/inUse``), is offered to nobody else, and is restored — name, host
/// addresses, up — when it is back on the host and no address of it is held any more.
extension DaemonServices {
    /// Remembers the chosen NICs before the pod gets them (their host state, to be restored later).
    func lend(_ chosen: [ChosenNIC]) throws(DaemonError) {
        let links: [LinkInfo], addresses: [AddressInfo]
        do {
            links = try netlink.links()
            addresses = try netlink.addresses()
        } catch {
            throw DaemonError(error)
        }
        let known = try interfaces()
        var lent: [LentDevice] = []
        for nic in chosen {
            guard let link = links.first(where: { $0.name == nic.master }), let interface = known.first(where: { $0.interfaceName == nic.master }),
                  let mac = link.macAddress else {
                throw .notFound("\(nic.master) is not on the host: it cannot be lent to the pod")
            }
            let own = addresses.filter { $0.linkIndex == link.index }.map(\.address)
                .filter { !($0.family == .v6 && $0.address.description.lowercased().hasPrefix("fe80")) }
            lent.append(LentDevice(interface: interface, macAddress: mac, addresses: own.map(\.description), mtu: link.mtu, wasUp: link.isUp))
        }
        try lentDevices.lend(lent)
    }

    /// NICs that no pod may be given now: lent ones. For a whole-device backend also every NIC that carries an
    /// attachment (moving it would take the other pods' links along).
    func unavailableNICs(wholeDevice: Bool) -> Set<String> {
        var busy = lentDevices.names
        if wholeDevice {
            busy.formUnion(ipam.attachmentCounts().filter { $0.value > 0 }.keys)
        }
        return busy
    }

    /// Discovered NICs plus the lent ones that are away, marked in use.
    func withLentDevices(_ discovered: [InterfaceInfo]) -> [InterfaceInfo] {
        var all = discovered
        for device in lentDevices.all where !discovered.contains(where: { $0.interfaceName == device.interface.interfaceName }) {
            var away = device.interface
            away.inUse = true
            all.append(away)
        }
        return all
    }

    /// Restores every lent NIC that is back on the host and holds no address any more: its name (it may come back
    /// as the pod's `net1-0` when the pod's namespace went without a DEL), MTU, host addresses and state; then
    /// forgets it. A NIC still away, or still held, is left as it is. Returns the names restored.
    @discardableResult
    func restoreReturnedDevices() -> [String] {
        let devices = lentDevices.all
        guard !devices.isEmpty, let host = netlink as? LinuxNetlink else { return [] }
        return restoringLock.withLock { _ -> [String] in
            let held = Set(ipam.attachmentCounts().filter { $0.value > 0 }.keys)
            var restored: [String] = []
            for device in devices where !held.contains(device.interface.interfaceName) {
                guard let links = try? host.links(),
                      let link = links.first(where: { $0.macAddress == device.macAddress && $0.kind != "macvlan" && $0.kind != "ipvlan" })
                else { continue }
                do {
                    try restore(device, link: link, links: links, host: host)
                    try lentDevices.forget(device.interface.interfaceName)
                    restored.append(device.interface.interfaceName)
                } catch {
                    deviceLog.warning("cannot restore \(device.interface.interfaceName) (back as \(link.name)): \(error)")
                }
            }
            if !restored.isEmpty { invalidateInterfaces() }
            return restored
        }
    }

    private func restore(_ device: LentDevice, link: LinkInfo, links: [LinkInfo], host: LinuxNetlink) throws {
        let name = device.interface.interfaceName
        if link.name != name {
            if let other = links.first(where: { $0.name == name }), other.index != link.index {
                throw DaemonError.conflict("another link is called \(name) now")
            }
            try host.perform([.setDown(index: link.index)])
            try host.perform([.rename(index: link.index, name: name)])
        }
        // A pod may have changed the MTU (the host-device plugin leaves it as the pod set it).
        let mtuChanged = link.mtu != device.mtu
        if mtuChanged, let mtu = UInt32(exactly: device.mtu), mtu > 0 { try host.perform([.setMTU(index: link.index, mtu: mtu)]) }
        let present = Set(try host.addresses().filter { $0.linkIndex == link.index }.map(\.address))
        let missing = device.addresses.compactMap(IPNetwork.init).filter { !present.contains($0) }
        if !missing.isEmpty { try host.perform(missing.map { .addAddress(index: link.index, $0) }) }
        if device.wasUp { try host.perform([.setUp(index: link.index)]) }
        let came = link.name != name ? " (as \(link.name))" : ""
        let restored = missing.map(\.description) + (mtuChanged ? ["mtu \(device.mtu) (was \(link.mtu))"] : [])
        deviceLog.info("\(name) is back from its pod\(came): restored \(restored.joined(separator: ", "))")
    }
}
