import Foundation

/// A PCI network controller as sysfs describes it.
public struct PCIDevice: Sendable, Hashable {
    /// `0000:3b:00.0`
    public var address: String
    /// Vendor and device IDs as hex without `0x`.
    public var vendor: String
    public var product: String
    /// The device's own `numa_node` (upstream read its parent bridge's); `nil` when -1 or absent.
    public var numaNode: Int?
    public var sriovVFs: Int?
}

/// Reads `/sys/bus/pci/devices` (under a configurable root).
public struct PCIDevices: Sendable {
    public let sysfsRoot: String

    public init(sysfsRoot: String) {
        self.sysfsRoot = sysfsRoot
    }

    /// Network controllers (PCI class 0x02xxxx) keyed by the interface names in their `net/` directory.
    public func networkDevicesByInterface() -> [String: PCIDevice] {
        let root = sysfsRoot + "/bus/pci/devices"
        var result: [String: PCIDevice] = [:]
        for address in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] {
            let directory = root + "/" + address
            guard let pciClass = read(directory + "/class").flatMap({ UInt32(hex: $0) }), pciClass >> 16 == 0x02 else { continue }
            let device = PCIDevice(
                address: address, vendor: read(directory + "/vendor").map(Self.stripHex) ?? "",
                product: read(directory + "/device").map(Self.stripHex) ?? "",
                numaNode: read(directory + "/numa_node").flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil },
                sriovVFs: read(directory + "/sriov_numvfs").flatMap { Int($0) })
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/net")) ?? [] {
                result[name] = device
            }
        }
        return result
    }

    /// `/sys/class/net/<interface>/speed` in Mbit/s; `nil` when unknown (absent, unreadable or -1).
    public static func speed(sysfsRoot: String, interface: String) -> Int? {
        guard let text = try? String(contentsOfFile: "\(sysfsRoot)/class/net/\(interface)/speed", encoding: .utf8),
              let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0
        else { return nil }
        return value
    }

    private func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func stripHex(_ text: String) -> String {
        text.lowercased().hasPrefix("0x") ? String(text.dropFirst(2)).lowercased() : text.lowercased()
    }
}

extension UInt32 {
    /// Parses `0x020000` or `020000`.
    init?(hex text: String) {
        self.init(PCIDevices.stripHex(text), radix: 16)
    }
}
