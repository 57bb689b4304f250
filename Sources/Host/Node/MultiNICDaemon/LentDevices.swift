#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import Synchronization

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
    let path: String
    private let devices: Mutex<[String: LentDevice]>

    init(directory: String) {
        path = directory + "/lent-devices.json"
        let saved = FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode([LentDevice].self, from: $0) } ?? []
        devices = Mutex(Dictionary(saved.map { ($0.interface.interfaceName, $0) }) { first, _ in first })
    }

    var all: [LentDevice] { devices.withLock { $0.values.sorted { $0.interface.interfaceName < $1.interface.interfaceName } } }

    var names: Set<String> { devices.withLock { Set($0.keys) } }

    /// Remembers `lent`, all or none: a NIC that is lent already (to a pod that got it meanwhile) is refused.
    func lend(_ lent: [LentDevice]) throws(DaemonError) {
        var taken: [String] = []
        try change { devices in
            taken = lent.map(\.interface.interfaceName).filter { devices[$0] != nil }
            guard taken.isEmpty else { return }
            for device in lent { devices[device.interface.interfaceName] = device }
        }
        guard taken.isEmpty else { throw .unavailable("\(taken.joined(separator: ", ")) was lent to another pod meanwhile; retry") }
    }

    func forget(_ name: String) throws(DaemonError) {
        try change { $0[name] = nil }
    }

    private func change(_ body: (inout [String: LentDevice]) -> Void) throws(DaemonError) {
        let failure = devices.withLock { (devices: inout [String: LentDevice]) -> String? in
            var next = devices
            body(&next)
            guard next != devices else { return nil }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(next.values.sorted { $0.interface.interfaceName < $1.interface.interfaceName }) else {
                return "cannot encode the lent devices"
            }
            if let failed = FileIO.replace(path, with: Array(data), temporary: path + ".tmp") {
                return "\(failed.step): \(String(cString: strerror(failed.errno)))"
            }
            devices = next
            return nil
        }
        if let failure { throw .failure("lent devices (\(path)): \(failure)") }
    }
}
