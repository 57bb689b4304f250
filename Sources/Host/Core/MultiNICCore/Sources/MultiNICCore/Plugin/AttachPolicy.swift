/// A NIC a pod may be attached to, with the facts policies rank by.
public struct NICCandidate: Sendable, Hashable {
    public var name: String
    public var netAddress: String
    public var vendor: String
    public var product: String
    public var pciAddress: String
    public var numaNode: Int?
    /// Link speed in Mbit/s; `nil` when unknown.
    public var speedMbps: Int?
    /// Pods currently attached through this NIC.
    public var attachments: Int
    /// Bandwidth already promised to attached pods, Mbit/s.
    public var promisedMbps: Int
    /// The host bridge and root port above the NIC (see ``PCILocation``); `nil` when unknown.
    public var pcieRoot: String?
    public var rootPort: String?

    public init(name: String, netAddress: String, vendor: String = "", product: String = "", pciAddress: String = "",
                numaNode: Int? = nil, speedMbps: Int? = nil, attachments: Int = 0, promisedMbps: Int = 0,
                pcieRoot: String? = nil, rootPort: String? = nil) {
        self.pcieRoot = pcieRoot
        self.rootPort = rootPort
        self.name = name
        self.netAddress = netAddress
        self.vendor = vendor
        self.product = product
        self.pciAddress = pciAddress
        self.numaNode = numaNode
        self.speedMbps = speedMbps
        self.attachments = attachments
        self.promisedMbps = promisedMbps
    }

    /// A candidate from a discovered interface.
    public init(_ interface: InterfaceInfo, attachments: Int = 0, promisedMbps: Int = 0) {
        self.init(name: interface.interfaceName, netAddress: interface.netAddress, vendor: interface.vendor,
                  product: interface.product, pciAddress: interface.pciAddress, numaNode: interface.numaNode,
                  speedMbps: interface.speedMbps, attachments: attachments, promisedMbps: promisedMbps,
                  pcieRoot: interface.pcieRoot, rootPort: interface.pcieRootPort)
    }

    /// The NIC's place on the PCIe tree.
    public var location: PCILocation { PCILocation(pciAddress: pciAddress, numaNode: numaNode, pcieRoot: pcieRoot, rootPort: rootPort) }

    /// Link speed minus what is already promised (never negative); `nil` when the speed is unknown.
    public var availableMbps: Int? { speedMbps.map { max($0 - promisedMbps, 0) } }
}

/// What the pod asks for (its annotation's cni-args).
public struct PodRequest: Sendable, Hashable {
    /// How many NICs; `nil` means as many as the policy gives.
    public var nics: Int?
    /// Host interface names, in the order wanted.
    public var masters: [String]
    /// DeviceClass name for devClass.
    public var deviceClass: String?
    /// Bandwidth target such as `50Gbps` (overrides the network's).
    public var target: String?

    public init(nics: Int? = nil, masters: [String] = [], deviceClass: String? = nil, target: String? = nil) {
        self.nics = nics
        self.masters = masters
        self.deviceClass = deviceClass
        self.target = target
    }

    /// Reads cni-args JSON: `{"nics": 2, "masters": ["eth1"], "class": "highspeed", "target": "50Gbps"}`.
    public init(cniArgs: JSONValue?) throws(FieldIssue) {
        self.init()
        guard let cniArgs else { return }
        guard let object = cniArgs.objectValue else { throw FieldIssue("cni-args", "must be a JSON object") }
        switch object["nics"] {
        case nil, .null: nics = nil
        case .integer(let count) where count >= 0: nics = Int(count)
        case .string(let text) where Int(text).map({ $0 >= 0 }) ?? false: nics = Int(text)
        case let other?: throw FieldIssue("cni-args.nics", "must be a non-negative integer, not \(other)")
        }
        switch object["masters"] {
        case nil, .null: masters = []
        case .array(let items):
            masters = try items.enumerated().map { (index, item) throws(FieldIssue) in
                guard let name = item.stringValue else { throw FieldIssue("cni-args.masters[\(index)]", "must be a string") }
                return name
            }
        case let other?: throw FieldIssue("cni-args.masters", "must be a list of interface names, not \(other)")
        }
        deviceClass = object["class"]?.stringValue
        target = object["target"]?.stringValue
    }
}

/// Cluster and network facts a policy may use.
public struct SelectionContext: Sendable, Hashable {
    /// The network's masterNets in order (empty: all).
    public var masterNets: [String]
    /// `attachPolicy.target`.
    public var strategyTarget: String?
    /// DeviceClasses by name.
    public var deviceClasses: [String: DeviceClassSpec]
    /// The pod's GPUs per NUMA node (given by hand; `gpus` is what the node found).
    public var gpusPerNUMA: [Int: Int]
    /// The pod's GPUs and where they sit (from the kubelet's PodResources and sysfs).
    public var gpus: [PCILocation]

    public init(masterNets: [String] = [], strategyTarget: String? = nil,
                deviceClasses: [String: DeviceClassSpec] = [:], gpusPerNUMA: [Int: Int] = [:], gpus: [PCILocation] = []) {
        self.masterNets = masterNets
        self.strategyTarget = strategyTarget
        self.deviceClasses = deviceClasses
        self.gpusPerNUMA = gpusPerNUMA
        self.gpus = gpus
    }
}

/// One NIC and why it was chosen or skipped.
public struct NICDecision: Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var netAddress: String
    public var reason: String

    public init(_ candidate: NICCandidate, _ reason: String) {
        self.init(name: candidate.name, netAddress: candidate.netAddress, reason: reason)
    }

    public init(name: String, netAddress: String, reason: String) {
        self.name = name
        self.netAddress = netAddress
        self.reason = reason
    }

    public var description: String { "\(name) (\(netAddress)): \(reason)" }
}

/// A policy's answer: the NICs in attachment order, and every other candidate with the reason it was left out.
public struct Selection: Sendable, Hashable {
    public var chosen: [NICDecision]
    public var skipped: [NICDecision]

    public init(chosen: [NICDecision] = [], skipped: [NICDecision] = []) {
        self.chosen = chosen
        self.skipped = skipped
    }
}

/// Why a policy could not decide.
public enum PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownDeviceClass(String, available: [String])
    case badTarget(String)

    public var description: String {
        switch self {
        case .unknownDeviceClass(let name, let available):
            "DeviceClass \"\(name)\" does not exist (known: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .badTarget(let text):
            "bandwidth target \"\(text)\" is not a bandwidth (e.g. 25Gbps, 800Mbps)"
        }
    }
}

/// An attach policy: a pure function from the host's NICs and the pod's request to an ordered selection.
public protocol AttachPolicy: Sendable {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
}
