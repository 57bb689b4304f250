/// Where a PCI device sits: its NUMA node and its place on the PCIe tree. `pcieRoot` is the host bridge (root
/// complex) the device hangs under, as sysfs names it (`pci0000:17`, the form of Kubernetes' standard DRA attribute
/// `resource.kubernetes.io/pcieRoot`); `rootPort` is the topmost bridge under that host bridge (`0000:17:00.0`): two
/// devices with the same root port share a PCIe switch, the closest two devices can be short of the same device.
public struct PCILocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// `0000:18:00.0`
    public var pciAddress: String
    public var numaNode: Int?
    public var pcieRoot: String?
    public var rootPort: String?

    public init(pciAddress: String, numaNode: Int? = nil, pcieRoot: String? = nil, rootPort: String? = nil) {
        self.pciAddress = pciAddress
        self.numaNode = numaNode
        self.pcieRoot = pcieRoot
        self.rootPort = rootPort
    }

    public var description: String {
        pciAddress + " (" + [pcieRoot.map { "root \($0)" }, rootPort.map { "port \($0)" }, numaNode.map { "NUMA \($0)" }]
            .compactMap { $0 }.joined(separator: ", ") + ")"
    }

    /// `0000:18:00.0` (domain, bus, device, function in lower-case hex); the bus-id forms `00000000:18:00.0` (NVIDIA's
    /// 8-digit domain) and `18:00.0` (no domain) are normalised to it. Nil for anything else.
    public static func normalizedAddress(_ text: String) -> String? {
        let lower = text.lowercased()
        let parts = lower.split(separator: ":", omittingEmptySubsequences: false)
        let (domain, bus, rest): (Substring, Substring, Substring)
        switch parts.count {
        case 3: (domain, bus, rest) = (parts[0], parts[1], parts[2])
        case 2: (domain, bus, rest) = ("0000", parts[0], parts[1])
        default: return nil
        }
        let deviceFunction = rest.split(separator: ".", omittingEmptySubsequences: false)
        let hex = Set("0123456789abcdef")
        guard (1...8).contains(domain.count), domain.allSatisfy(hex.contains), let domainValue = UInt32(domain, radix: 16),
              domainValue <= 0xffff, bus.count == 2, bus.allSatisfy(hex.contains), deviceFunction.count == 2,
              deviceFunction[0].count == 2, deviceFunction[0].allSatisfy(hex.contains), let device = UInt8(deviceFunction[0], radix: 16),
              device < 0x20, deviceFunction[1].count == 1, let function = UInt8(deviceFunction[1], radix: 16), function < 8
        else { return nil }
        let paddedDomain = String(domainValue, radix: 16)
        return String(repeating: "0", count: 4 - paddedDomain.count) + paddedDomain + ":" + bus + ":" + deviceFunction[0] + "." + deviceFunction[1]
    }
}
