import Foundation
import MultiNICCore

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
    /// Host bridge and root port above the device (see ``PCILocation``).
    public var pcieRoot: String?
    public var rootPort: String?
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
            let location = locate(address)
            let device = PCIDevice(
                address: address, vendor: read(directory + "/vendor").map(Self.stripHex) ?? "",
                product: read(directory + "/device").map(Self.stripHex) ?? "",
                numaNode: location?.numaNode, sriovVFs: read(directory + "/sriov_numvfs").flatMap { Int($0) },
                pcieRoot: location?.pcieRoot, rootPort: location?.rootPort)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/net")) ?? [] {
                result[name] = device
            }
        }
        return result
    }

    /// Where the device `address` sits: its own `numa_node` (`nil` when -1 or absent), and from the path its
    /// `bus/pci/devices` link resolves to (`…/devices/pci0000:17/0000:17:00.0/0000:18:00.0`) the host bridge and the
    /// topmost bridge under it. Nil when there is no such device.
    public func locate(_ address: String) -> PCILocation? {
        let link = sysfsRoot + "/bus/pci/devices/" + address
        guard FileManager.default.fileExists(atPath: link) else { return nil }
        let components = URL(fileURLWithPath: link).resolvingSymlinksInPath().path.split(separator: "/").map(String.init)
        var location = PCILocation(pciAddress: address,
                                   numaNode: read(link + "/numa_node").flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil })
        if let bridge = components.firstIndex(where: Self.isHostBridge) {
            location.pcieRoot = components[bridge]
            if bridge + 1 < components.count, let port = PCILocation.normalizedAddress(components[bridge + 1]) { location.rootPort = port }
        }
        return location
    }

    /// `pci0000:17` (a host bridge's directory under /sys/devices).
    static func isHostBridge(_ name: String) -> Bool {
        guard name.hasPrefix("pci") else { return false }
        let parts = name.dropFirst(3).split(separator: ":", omittingEmptySubsequences: false)
        let hex = Set("0123456789abcdef")
        return parts.count == 2 && parts[0].count >= 4 && parts[1].count == 2 && parts.allSatisfy { $0.allSatisfy(hex.contains) }
    }

    /// `/sys/class/net/<interface>/speed` in Mbit/s; `nil` when unknown (absent, unreadable or -1).
    public static func speed(sysfsRoot: String, interface: String) -> Int? {
        guard let text = try? String(contentsOfFile: "\(sysfsRoot)/class/net/\(interface)/speed", encoding: .utf8),
              let value = Int(text.trimmedWhitespace), value > 0
        else { return nil }
        return value
    }

    private func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.trimmedWhitespace
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
