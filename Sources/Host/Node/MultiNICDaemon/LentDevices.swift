#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore

/// A NIC lent whole to a pod (host-device), as it was on the host when it was lent.
public struct LentDevice: Codable, Sendable, Hashable {
    /// What discovery reported for it (name, network, PCI place…).
    public var interface: InterfaceInfo
    /// How it is found again when it comes back under another name (`net1-0`, `dev3`): its MAC.
    public var macAddress: String
    /// Its host addresses with prefix (a NIC moved between namespaces loses them).
    public var addresses: [String]
    public var mtu: Int
    public var wasUp: Bool
}

/// The NICs lent to pods, in `<state>/lent-devices.json`, written durably before a pod is given the NIC: after a
/// daemon restart the NIC is still reported (``InterfaceInfo/inUse``) and still restored when it comes back.
final class LentDeviceStore: Sendable {
    let record: DurableRecord<[LentDevice]>

    init(directory: String) {
        record = DurableRecord(path: directory + "/lent-devices.json", empty: [])
    }

    var path: String { record.path }

    var all: [LentDevice] { record.current }

    var names: Set<String> { Set(record.current.map(\.interface.interfaceName)) }

    /// Remembers `lent`, all or none: a NIC that is lent already (to a pod that got it meanwhile) is refused.
    func lend(_ lent: [LentDevice]) throws(DaemonError) {
        let taken = try record.change { devices -> [String] in
            let taken = lent.map(\.interface.interfaceName).filter { name in devices.contains { $0.interface.interfaceName == name } }
            guard taken.isEmpty else { return taken }
            devices = (devices + lent).sorted { $0.interface.interfaceName < $1.interface.interfaceName }
            return []
        }
        guard taken.isEmpty else { throw .unavailable("\(taken.joined(separator: ", ")) was lent to another pod meanwhile; retry") }
    }

    func forget(_ name: String) throws(DaemonError) {
        try record.change { $0.removeAll { $0.interface.interfaceName == name } }
    }
}
