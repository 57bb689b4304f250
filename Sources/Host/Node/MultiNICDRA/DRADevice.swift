import MultiNICCore

/// A `resource.k8s.io/v1` device attribute value: exactly one of int, bool, string, version.
public enum DRAAttribute: Sendable, Hashable {
    case int(Int)
    case bool(Bool)
    case string(String)

    var json: JSONValue {
        switch self {
        case .int(let value): .object(["int": .integer(Int64(value))])
        case .bool(let value): .object(["bool": .bool(value)])
        case .string(let value): .object(["string": .string(value)])
        }
    }
}

/// One NIC as a DRA device: a DNS-label name, attributes and capacities (quantities).
public struct DRADevice: Sendable, Hashable {
    public var name: String
    public var attributes: [String: DRAAttribute]
    /// Capacity name → quantity (`25000M`, `61`).
    public var capacity: [String: String]

    public init(name: String, attributes: [String: DRAAttribute], capacity: [String: String]) {
        self.name = name
        self.attributes = attributes
        self.capacity = capacity
    }

    /// The standard attribute that DRA claims match GPUs and NICs on (`matchAttribute`).
    public static let pcieRootAttribute = "resource.kubernetes.io/pcieRoot"

    /// What the node knows about one NIC beyond discovery.
    public struct NICFacts: Sendable, Hashable {
        /// An InfiniBand/RoCE device sits on the NIC (`<sysfs>/class/net/<nic>/device/infiniband`).
        public var rdma: Bool
        /// Free addresses in the NIC's pod block, summed over the networks it serves.
        public var freeAddresses: Int
        /// The MultiNicNetworks with a pool on this NIC.
        public var networks: [String]
        /// The resource name Multus matches NADs on (``DRANames/multusResourceName(driver:)``); nil: no Multus
        /// attributes.
        public var multusResourceName: String?

        public init(rdma: Bool = false, freeAddresses: Int = 0, networks: [String] = [], multusResourceName: String? = nil) {
            self.rdma = rdma
            self.freeAddresses = freeAddresses
            self.networks = networks
            self.multusResourceName = multusResourceName
        }
    }

    /// The ID Multus hands the CNI ADD for a claimed NIC: its PCI address, else the device name (unique in the pool).
    public static func multusDeviceID(pciAddress: String, name: String) -> String {
        pciAddress.isEmpty ? name : pciAddress
    }

    /// The device of a discovered NIC. Unqualified attribute names belong to the driver's domain.
    public init(interface: InterfaceInfo, facts: NICFacts, name: String) {
        var attributes: [String: DRAAttribute] = ["ifName": .string(interface.interfaceName)]
        if !interface.pciAddress.isEmpty { attributes["pciAddress"] = .string(interface.pciAddress) }
        if !interface.vendor.isEmpty { attributes["vendor"] = .string(interface.vendor) }
        if !interface.product.isEmpty { attributes["product"] = .string(interface.product) }
        if let numa = interface.numaNode, numa >= 0 { attributes["numaNode"] = .int(numa) }
        if let root = interface.pcieRoot, !root.isEmpty { attributes[Self.pcieRootAttribute] = .string(root) }
        if let speed = interface.speedMbps, speed > 0 { attributes["speedMbps"] = .int(speed) }
        if let mtu = interface.mtu, mtu > 0 { attributes["mtu"] = .int(mtu) }
        let vfs = interface.sriovVFs ?? 0
        attributes["sriov"] = .bool(vfs > 0)
        if vfs > 0 { attributes["sriovVfs"] = .int(vfs) }
        attributes["rdma"] = .bool(facts.rdma)
        if !interface.netAddress.isEmpty { attributes["masterNet"] = .string(interface.netAddress) }
        // Attribute values are scalars: the networks as one comma-separated string (CEL: `.split(",")`).
        if !facts.networks.isEmpty { attributes["networks"] = .string(facts.networks.sorted().joined(separator: ",")) }
        // Multus's handshake: the NIC's ID (its PCI address, else the device name) reaches the CNI ADD as `deviceID`.
        if let resource = facts.multusResourceName {
            attributes[DRANames.multusResourceNameAttribute] = .string(resource)
            attributes[DRANames.multusDeviceIDAttribute] = .string(Self.multusDeviceID(pciAddress: interface.pciAddress, name: name))
        }
        var capacity = ["ipAddresses": String(max(0, facts.freeAddresses))]
        if let speed = interface.speedMbps, speed > 0 { capacity["bandwidth"] = "\(speed)M" }
        self.init(name: name, attributes: attributes, capacity: capacity)
    }

    /// DNS-label device names for interface names (`ens1f0np0` stays; `eth1.100` → `eth1-100`), unique per node.
    public static func names(for interfaceNames: [String]) -> [String] {
        var used: Set<String> = []
        return interfaceNames.map { interfaceName in
            var label = String(interfaceName.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" })
            label = String(label.drop { $0 == "-" }.reversed().drop { $0 == "-" }.reversed())
            if label.isEmpty { label = "nic" }
            label = String(label.prefix(58))
            var candidate = label
            var counter = 2
            while used.contains(candidate) {
                candidate = "\(label)-\(counter)"
                counter += 1
            }
            used.insert(candidate)
            return candidate
        }
    }

    var json: JSONValue {
        .object([
            "name": .string(name),
            "attributes": .object(attributes.mapValues(\.json)),
            "capacity": .object(capacity.mapValues { .object(["value": .string($0)]) }),
        ])
    }
}
