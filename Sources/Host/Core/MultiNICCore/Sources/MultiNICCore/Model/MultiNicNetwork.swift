/// A user's network definition: one global subnet, an IPAM config, a main plugin and an attach policy,
/// turned into one NetworkAttachmentDefinition per target namespace and N NICs per pod.
public typealias MultiNicNetwork = Resource<MultiNicNetworkSpec>

/// `MultiNicNetwork.spec`.
public struct MultiNicNetworkSpec: ResourceSpec {
    public typealias Status = MultiNicNetworkStatus
    public static let kind = "MultiNicNetwork"
    public static let plural = "multinicnetworks"

    /// Global pod subnet; empty means host-subnet mode (each host interface's own network).
    public var subnet: String
    /// The IPAM config as JSON text (see ``IPAMConfig``).
    public var ipam: String
    /// True when the IPAM returns one address per NIC in one call. `nil` when the document omits it.
    public var multiNICIPAM: Bool?
    /// The main plugin.
    public var plugin: PluginSpec
    /// How NICs are selected for a pod; `nil` means strategy `none`.
    public var attachPolicy: AttachPolicySpec?
    /// Allowed host interface networks, in interface-index order; empty means every discovered network.
    public var masterNets: [String]?
    /// Namespaces that get the NetworkAttachmentDefinition; empty means all.
    public var namespaces: [String]?
    /// `false` keeps the delegate path for this network (a delegate plugin exec per NIC); unset or true lets the
    /// node daemon configure the NICs itself where the backend can (macvlan, ipvlan).
    public var nativeAttach: Bool?

    public init(subnet: String, ipam: String, multiNICIPAM: Bool? = nil, plugin: PluginSpec,
                attachPolicy: AttachPolicySpec? = nil, masterNets: [String]? = nil, namespaces: [String]? = nil,
                nativeAttach: Bool? = nil) {
        self.subnet = subnet
        self.ipam = ipam
        self.multiNICIPAM = multiNICIPAM
        self.plugin = plugin
        self.attachPolicy = attachPolicy
        self.masterNets = masterNets
        self.namespaces = namespaces
        self.nativeAttach = nativeAttach
    }

    /// The keys a document may use in `spec`; others are reported as unknown.
    public static let knownKeys: Set<String> = [
        "subnet", "ipam", "multiNICIPAM", "multiNicIPAM", "plugin", "attachPolicy", "masterNets", "namespaces",
        "nativeAttach",
    ]

    private enum CodingKeys: String, CodingKey {
        case subnet, ipam, multiNICIPAM, multiNicIPAM, plugin, attachPolicy, masterNets, namespaces, nativeAttach
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subnet = try container.decodeIfPresent(String.self, forKey: .subnet) ?? ""
        ipam = try container.decode(String.self, forKey: .ipam)
        // The seed spells the flag both ways; accept either, reject a contradiction.
        let upper = try container.decodeIfPresent(Bool.self, forKey: .multiNICIPAM)
        let lower = try container.decodeIfPresent(Bool.self, forKey: .multiNicIPAM)
        if let upper, let lower, upper != lower {
            throw DecodingError.dataCorruptedError(
                forKey: .multiNicIPAM, in: container,
                debugDescription: "contradicts multiNICIPAM (\(upper)); give the flag once")
        }
        multiNICIPAM = upper ?? lower
        plugin = try container.decode(PluginSpec.self, forKey: .plugin)
        attachPolicy = try container.decodeIfPresent(AttachPolicySpec.self, forKey: .attachPolicy)
        masterNets = try container.decodeIfPresent([String].self, forKey: .masterNets)
        namespaces = try container.decodeIfPresent([String].self, forKey: .namespaces)
        nativeAttach = try container.decodeIfPresent(Bool.self, forKey: .nativeAttach)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subnet, forKey: .subnet)
        try container.encode(ipam, forKey: .ipam)
        try container.encodeIfPresent(multiNICIPAM, forKey: .multiNICIPAM)
        try container.encode(plugin, forKey: .plugin)
        try container.encodeIfPresent(attachPolicy, forKey: .attachPolicy)
        try container.encodeIfPresent(masterNets, forKey: .masterNets)
        try container.encodeIfPresent(namespaces, forKey: .namespaces)
        try container.encodeIfPresent(nativeAttach, forKey: .nativeAttach)
    }
}

/// `spec.plugin`: the main CNI plugin and its arguments.
public struct PluginSpec: Codable, Sendable, Hashable {
    public var cniVersion: String
    /// Backend name: ipvlan, macvlan, sriov, …
    public var type: String
    /// Backend arguments. Numbers and booleans in the document are kept as their text.
    public var args: [String: String]?
    public var capabilities: [String: Bool]?
    public var dns: DNSConfig?

    public init(cniVersion: String, type: String, args: [String: String]? = nil,
                capabilities: [String: Bool]? = nil, dns: DNSConfig? = nil) {
        self.cniVersion = cniVersion
        self.type = type
        self.args = args
        self.capabilities = capabilities
        self.dns = dns
    }

    private enum CodingKeys: String, CodingKey {
        case cniVersion, type, args, capabilities, dns
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cniVersion = try container.decode(String.self, forKey: .cniVersion)
        type = try container.decode(String.self, forKey: .type)
        if container.contains(.args), try !container.decodeNil(forKey: .args) {
            let argsContainer = try container.nestedContainer(keyedBy: AnyCodingKey.self, forKey: .args)
            var args: [String: String] = [:]
            for key in argsContainer.allKeys {
                args[key.stringValue] = try argsContainer.decode(ScalarText.self, forKey: key).text
            }
            self.args = args
        }
        capabilities = try container.decodeIfPresent([String: Bool].self, forKey: .capabilities)
        dns = try container.decodeIfPresent(DNSConfig.self, forKey: .dns)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cniVersion, forKey: .cniVersion)
        try container.encode(type, forKey: .type)
        try container.encodeSortedIfPresent(args, forKey: .args)
        try container.encodeSortedIfPresent(capabilities, forKey: .capabilities)
        try container.encodeIfPresent(dns, forKey: .dns)
    }
}

/// A scalar read as text whatever its YAML/JSON type (`mtu: 9000` and `mtu: "9000"` alike).
struct ScalarText: Decodable {
    let text: String

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let value = try? single.decode(String.self) {
            text = value
        } else if let value = try? single.decode(Bool.self) {
            text = value ? "true" : "false"
        } else if let value = try? single.decode(Int64.self) {
            text = String(value)
        } else if let value = try? single.decode(Double.self) {
            text = String(value)
        } else {
            throw DecodingError.dataCorruptedError(in: single, debugDescription: "expected a string, number or boolean")
        }
    }
}

/// CNI DNS settings.
public struct DNSConfig: Codable, Sendable, Hashable {
    public var nameservers: [String]?
    public var domain: String?
    public var search: [String]?
    public var options: [String]?

    public init(nameservers: [String]? = nil, domain: String? = nil, search: [String]? = nil,
                options: [String]? = nil) {
        self.nameservers = nameservers
        self.domain = domain
        self.search = search
        self.options = options
    }
}

/// `spec.attachPolicy`.
public struct AttachPolicySpec: Codable, Sendable, Hashable {
    /// none, costOpt, perfOpt, devClass or topology.
    public var strategy: String
    /// Bandwidth target such as `10Gbps`, for the strategies that use one.
    public var target: String?

    /// The strategies that ship with MultiNIC.
    public static let knownStrategies = ["none", "costOpt", "perfOpt", "devClass", "topology"]

    public init(strategy: String, target: String? = nil) {
        self.strategy = strategy
        self.target = target
    }
}

/// `MultiNicNetwork.status`, written by the controller.
public struct MultiNicNetworkStatus: Codable, Sendable, Hashable {
    public var computeResults: [NetworkComputeResult]
    public var discovery: DiscoveryStatus
    public var configStatus: ConfigStatus
    public var routeStatus: RouteStatus
    public var message: String
    public var lastSyncTime: String?
    /// `Ready`, `PoolsReady` and `RoutesReady` (see the controller's `NetworkConditions`).
    public var conditions: [Condition]?

    public init(computeResults: [NetworkComputeResult] = [], discovery: DiscoveryStatus = DiscoveryStatus(),
                configStatus: ConfigStatus = .waitForConfig, routeStatus: RouteStatus = .notApplicable,
                message: String = "", lastSyncTime: String? = nil, conditions: [Condition]? = nil) {
        self.conditions = conditions
        self.computeResults = computeResults
        self.discovery = discovery
        self.configStatus = configStatus
        self.routeStatus = routeStatus
        self.message = message
        self.lastSyncTime = lastSyncTime
    }
}

/// The number of hosts with a pod block on one interface network.
public struct NetworkComputeResult: Codable, Sendable, Hashable {
    public var netAddress: String
    public var numOfHosts: Int

    public init(netAddress: String, numOfHosts: Int) {
        self.netAddress = netAddress
        self.numOfHosts = numOfHosts
    }
}

/// Discovery progress: daemons seen, hosts with interfaces, hosts placed in the CIDR.
public struct DiscoveryStatus: Codable, Sendable, Hashable {
    public var existDaemon: Int
    public var infoAvailable: Int
    public var cidrProcessed: Int

    public init(existDaemon: Int = 0, infoAvailable: Int = 0, cidrProcessed: Int = 0) {
        self.existDaemon = existDaemon
        self.infoAvailable = infoAvailable
        self.cidrProcessed = cidrProcessed
    }
}

/// `status.configStatus`.
public enum ConfigStatus: String, Codable, Sendable, Hashable {
    case waitForConfig = "WaitForConfig"
    case success = "Success"
    case failed = "Failed"
}

/// `status.routeStatus`.
public enum RouteStatus: String, Codable, Sendable, Hashable {
    case notApplicable = "N/A"
    case waitForRoutes = "WaitForRoutes"
    case unknown = "Unknown"
    case success = "Success"
    case failed = "Failed"
}
