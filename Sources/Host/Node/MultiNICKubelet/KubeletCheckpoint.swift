import Foundation
import MultiNICCore

/// kubelet's device-plugin checkpoint: which devices (PCI addresses for SR-IOV) each pod got per resource.
/// `Data.PodDeviceEntries[]` with `PodUID`, `ResourceName` and `DeviceIDs` (a list, or a map of NUMA node → list).
public struct KubeletCheckpoint: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The device IDs the pod holds for any of `resourceNames`, in checkpoint order.
    public func deviceIDs(podUID: String, resourceNames: [String]) -> [String] {
        devices(podUID: podUID, resourceNames: resourceNames).map(\.id)
    }

    /// The pod's devices of any of `resourceNames` with the resource each belongs to, in checkpoint order (one read
    /// of the file).
    public func devices(podUID: String, resourceNames: [String]) -> [(resource: String, id: String)] {
        guard let data = FileManager.default.contents(atPath: path),
              let root = try? JSONDecoder().decode(JSONValue.self, from: data),
              let entries = root.objectValue?["Data"]?.objectValue?["PodDeviceEntries"]?.arrayValue
        else { return [] }
        var result: [(resource: String, id: String)] = []
        for case let entry? in entries.map(\.objectValue) where entry["PodUID"]?.stringValue == podUID {
            guard let resource = entry["ResourceName"]?.stringValue, resourceNames.contains(resource) else { continue }
            if let list = entry["DeviceIDs"]?.arrayValue {
                result += list.compactMap(\.stringValue).map { (resource, $0) }
            } else if let byNode = entry["DeviceIDs"]?.objectValue {
                result += byNode.keys.sorted().flatMap { byNode[$0]?.arrayValue ?? [] }.compactMap(\.stringValue).map { (resource, $0) }
            }
        }
        return result
    }

    /// The host NIC a device belongs to: its PF's net name for a VF, else its own net name.
    public static func interfaceName(ofDevice pciAddress: String, sysfsRoot: String) -> String? {
        let device = "\(sysfsRoot)/bus/pci/devices/\(pciAddress)"
        for directory in [device + "/physfn/net", device + "/net"] {
            if let name = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.sorted().first { return name }
        }
        return nil
    }
}
