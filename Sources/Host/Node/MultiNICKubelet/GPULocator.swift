import Foundation
import MultiNICCore
import MultiNICDiscovery

/// Finds a GPU on the PCIe tree from the id its device plugin gave it: a PCI bus id (AMD, Habana and NVIDIA's
/// `--device-id-strategy=index` aside) is used as is; an NVIDIA GPU UUID (`GPU-…`) is looked up in the driver's
/// `/proc/driver/nvidia/gpus/<bus id>/information` (`GPU UUID:` and `Bus Location:` lines).
public struct GPULocator: Sendable {
    public let sysfsRoot: String
    /// `/proc/driver/nvidia` (configurable for tests and the lab).
    public let nvidiaRoot: String

    public init(sysfsRoot: String = "/sys", nvidiaRoot: String = "/proc/driver/nvidia") {
        self.sysfsRoot = sysfsRoot
        self.nvidiaRoot = nvidiaRoot
    }

    /// The device's PCI address; nil when the id is neither a bus id nor a UUID the NVIDIA driver lists.
    public func pciAddress(ofDevice id: String) -> String? {
        if let address = PCILocation.normalizedAddress(id) { return address }
        return nvidiaUUIDs()[id.uppercased()]
    }

    /// The device's place, or why it has none.
    public func locate(_ id: String) -> Result<PCILocation, LocateFailure> {
        guard let address = pciAddress(ofDevice: id) else { return .failure(.unknownID(id)) }
        guard let location = PCIDevices(sysfsRoot: sysfsRoot).locate(address) else { return .failure(.notInSysfs(address)) }
        return .success(location)
    }

    public enum LocateFailure: Error, Sendable, Hashable, CustomStringConvertible {
        case unknownID(String)
        case notInSysfs(String)
        public var description: String {
            switch self {
            case .unknownID(let id): "device \(id) is neither a PCI address nor a GPU the NVIDIA driver lists"
            case .notInSysfs(let address): "device \(address) is not in bus/pci/devices"
            }
        }
    }

    /// UUID (upper-case) → bus location, from every GPU the driver lists.
    func nvidiaUUIDs() -> [String: String] {
        let directory = nvidiaRoot + "/gpus"
        var result: [String: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let text = try? String(contentsOfFile: directory + "/" + entry + "/information", encoding: .utf8) else { continue }
            var uuid: String?
            var bus = PCILocation.normalizedAddress(entry)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmedWhitespace }
                guard parts.count == 2 else { continue }
                if parts[0] == "GPU UUID" { uuid = parts[1].uppercased() }
                if parts[0] == "Bus Location" { bus = PCILocation.normalizedAddress(parts[1]) ?? bus }
            }
            if let uuid, let bus { result[uuid] = bus }
        }
        return result
    }
}
