/// Request and response bodies of the node daemon's HTTP API, shared by the daemon, the CNI binary and the
/// operator. Paths and field names follow upstream multi-nicd (§3.2); fields added by MultiNIC are optional.
public enum DaemonAPI {
    /// The daemon's root-only unix socket on a node (the CNI binaries' default).
    public static let nodeSocket = "/run/multinic/multi-nicd.sock"
    public static let interfacePath = "/interface"
    public static let selectPath = "/select"
    public static let allocatePath = "/allocate"
    public static let deallocatePath = "/deallocate"
    public static let addL3Path = "/addl3"
    public static let deleteL3Path = "/deletel3"
    public static let addRoutePath = "/addroute"
    public static let deleteRoutePath = "/deleteroute"
    public static let joinPath = "/join"
    public static let greetPath = "/greet"
    public static let gcPath = "/gc"
    public static let statusPath = "/status"
    public static let poolsPath = "/pools"
    public static let deviceClassesPath = "/deviceclasses"
    public static let attachPath = "/attach"
    public static let detachPath = "/detach"
    /// Read-only: the leases of one attachment (`LeaseQuery` → `[IPAllocation]`), for CHECK.
    public static let leasesPath = "/leases"
}

/// The pod's cni-args as the daemon receives them.
public struct SelectArgs: Codable, Sendable, Hashable {
    public var nics: Int?
    public var masters: [String]?
    public var target: String?
    public var `class`: String?

    public init(nics: Int? = nil, masters: [String]? = nil, target: String? = nil, class deviceClass: String? = nil) {
        self.nics = nics
        self.masters = masters
        self.target = target
        self.class = deviceClass
    }
}

/// `POST /select`.
public struct SelectRequest: Codable, Sendable, Hashable {
    public var pod: String
    public var namespace: String
    public var host: String
    /// The network (NAD) name.
    public var def: String
    public var masterNets: [String]?
    public var args: SelectArgs?
    public var podUID: String?
    /// The network's policy (from the NAD config); `none` when absent.
    public var attachPolicy: AttachPolicySpec?
    /// Device-plugin resources of the network (SR-IOV): masters come from the pod's allocated devices.
    public var resourceNames: [String]?
    /// The pod's GPUs per NUMA node, for topology.
    public var gpusPerNUMA: [String: Int]?

    public init(pod: String, namespace: String, host: String, def: String, masterNets: [String]? = nil,
                args: SelectArgs? = nil, podUID: String? = nil, attachPolicy: AttachPolicySpec? = nil,
                resourceNames: [String]? = nil, gpusPerNUMA: [String: Int]? = nil) {
        self.pod = pod
        self.namespace = namespace
        self.host = host
        self.def = def
        self.masterNets = masterNets
        self.args = args
        self.podUID = podUID
        self.attachPolicy = attachPolicy
        self.resourceNames = resourceNames
        self.gpusPerNUMA = gpusPerNUMA
    }
}

/// `POST /select` answer: masters in attachment order (and VF PCI addresses for SR-IOV).
public struct SelectResponse: Codable, Sendable, Hashable {
    public var deviceIDs: [String]
    public var masters: [String]
    /// Why each NIC was chosen, in order.
    public var reasons: [String]?

    public init(deviceIDs: [String], masters: [String], reasons: [String]? = nil) {
        self.deviceIDs = deviceIDs
        self.masters = masters
        self.reasons = reasons
    }
}

/// `POST /allocate` and `POST /deallocate`.
public struct AllocateRequest: Codable, Sendable, Hashable {
    public var pod: String
    public var namespace: String
    public var host: String
    public var def: String
    /// Host NICs, one address each (allocate); ignored by deallocate.
    public var masters: [String]?
    /// CNI container ID: the allocation key with the interface names. Upstream clients omit it; the pod's
    /// namespace/name stands in then.
    public var containerID: String?
    /// Pod interface per master (`net1-0`, …); defaults to the master's position.
    public var ifNames: [String]?
    public var podUID: String?

    public init(pod: String, namespace: String, host: String, def: String, masters: [String]? = nil,
                containerID: String? = nil, ifNames: [String]? = nil, podUID: String? = nil) {
        self.pod = pod
        self.namespace = namespace
        self.host = host
        self.def = def
        self.masters = masters
        self.containerID = containerID
        self.ifNames = ifNames
        self.podUID = podUID
    }
}

/// One address handed out (or released): upstream's `{interface, ip, block}`.
public struct IPAllocation: Codable, Sendable, Hashable {
    /// The host NIC.
    public var interface: String
    public var ip: String
    /// Prefix length of the pod address, as text (upstream).
    public var block: String
    /// The pod interface.
    public var ifName: String?

    public init(interface: String, ip: String, block: String, ifName: String? = nil) {
        self.interface = interface
        self.ip = ip
        self.block = block
        self.ifName = ifName
    }

    /// `ip/block` typed; `nil` when the answer is malformed (a prefix outside the address family's range included).
    public var podAddress: IPNetwork? {
        guard let address = IPAddress(ip), block.utf8.count <= 3, let prefix = Int(block),
              (0...(address.family == .v4 ? 32 : 128)).contains(prefix) else { return nil }
        return IPNetwork(address: address, prefixLength: prefix)
    }
}

/// `POST /addl3` and `/deletel3`.
public struct L3Request: Codable, Sendable, Hashable {
    public var name: String
    public var subnet: String
    public var routes: [L3Route]
    public var force: Bool?

    public init(name: String, subnet: String, routes: [L3Route], force: Bool? = nil) {
        self.name = name
        self.subnet = subnet
        self.routes = routes
        self.force = force
    }
}

/// `{net, via, iface}`: a pod block via another host's address on a shared NIC network.
public struct L3Route: Codable, Sendable, Hashable {
    public var net: String
    public var via: String
    public var iface: String

    public init(net: String, via: String, iface: String) {
        self.net = net
        self.via = via
        self.iface = iface
    }
}

/// `{success, msg}`.
public struct L3Response: Codable, Sendable, Hashable {
    public var success: Bool
    public var msg: String

    public init(success: Bool, msg: String) {
        self.success = success
        self.msg = msg
    }
}

/// `POST /gc` (CNI 1.1 GC): everything of `network` not listed is released.
public struct GCRequest: Codable, Sendable, Hashable {
    public var network: String
    public var validAttachments: [ValidAttachment]

    public init(network: String, validAttachments: [ValidAttachment]) {
        self.network = network
        self.validAttachments = validAttachments
    }
}

/// `cni.dev/valid-attachments` entry.
public struct ValidAttachment: Codable, Sendable, Hashable {
    public var containerID: String
    public var ifname: String

    public init(containerID: String, ifname: String) {
        self.containerID = containerID
        self.ifname = ifname
    }
}

/// `GET /status`.
public struct DaemonStatus: Codable, Sendable, Hashable {
    public struct Pool: Codable, Sendable, Hashable {
        public var name: String
        public var network: String
        public var interface: String
        public var inUse: Int
        public var quarantined: Int
        /// Usable addresses (as text: IPv6 blocks exceed 64 bits).
        public var capacity: String

        public init(name: String, network: String, interface: String, inUse: Int, quarantined: Int, capacity: String) {
            self.name = name
            self.network = network
            self.interface = interface
            self.inUse = inUse
            self.quarantined = quarantined
            self.capacity = capacity
        }
    }

    public var node: String
    public var pools: [Pool]
    /// Network name → whether its routes are in sync.
    public var routesInSync: [String: Bool]
    /// Reasons the daemon is degraded (empty when healthy).
    public var degraded: [String]

    public init(node: String, pools: [Pool], routesInSync: [String: Bool], degraded: [String]) {
        self.node = node
        self.pools = pools
        self.routesInSync = routesInSync
        self.degraded = degraded
    }
}

/// The body of every error answer: `{"error": "..."}`.
public struct DaemonErrorBody: Codable, Sendable, Hashable {
    public var error: String

    public init(error: String) { self.error = error }
}

/// `POST /attach`: everything the CNI binary needs for a multi-NIC ADD in one round trip — the daemon selects the
/// NICs, allocates one address each, and builds each NIC's delegate config with the network's backend.
public struct AttachRequest: Codable, Sendable, Hashable {
    public var pod: String
    public var namespace: String
    public var podUID: String?
    public var containerID: String
    /// The pod interface base name (`CNI_IFNAME`); NIC k becomes `<ifName>-<k>`.
    public var ifName: String
    /// The network (NAD) name.
    public var network: String
    /// The cniVersion written into the delegate configs.
    public var cniVersion: String
    /// The NAD config's `plugin` section.
    public var plugin: [String: JSONValue]
    public var masterNets: [String]?
    public var attachPolicy: AttachPolicySpec?
    public var resourceNames: [String]?
    public var args: SelectArgs?
    /// The network's static pod routes (`spec.ipam.routes`); each NIC gets those it can carry (``PodRoute``).
    public var routes: [PodRoute]?
    /// The NetConf's own IPAM section for networks with `multiNICIPAM: false`: the daemon then selects NICs without
    /// allocating, and every delegate runs this IPAM itself.
    public var delegatedIPAM: JSONValue?
    /// GPUs of the pod per NUMA node (`"0": 2`), for the topology policy; `nil` when the caller does not know.
    public var gpusPerNUMA: [String: Int]?

    public init(pod: String, namespace: String, podUID: String? = nil, containerID: String, ifName: String, network: String,
                cniVersion: String, plugin: [String: JSONValue], masterNets: [String]? = nil,
                attachPolicy: AttachPolicySpec? = nil, resourceNames: [String]? = nil, args: SelectArgs? = nil,
                routes: [PodRoute]? = nil, delegatedIPAM: JSONValue? = nil, gpusPerNUMA: [String: Int]? = nil) {
        self.gpusPerNUMA = gpusPerNUMA
        self.pod = pod
        self.namespace = namespace
        self.podUID = podUID
        self.containerID = containerID
        self.ifName = ifName
        self.network = network
        self.cniVersion = cniVersion
        self.plugin = plugin
        self.masterNets = masterNets
        self.attachPolicy = attachPolicy
        self.resourceNames = resourceNames
        self.args = args
        self.routes = routes
        self.delegatedIPAM = delegatedIPAM
    }
}

/// One pod interface to create (attach) or remove (detach).
public struct AttachedNIC: Codable, Sendable, Hashable {
    public var master: String
    public var deviceID: String?
    /// `net1-0`, `net1-1`, …
    public var ifName: String
    /// The pod's address with the interface block's prefix, e.g. `192.168.0.65/18`; `nil` when the delegate's own
    /// IPAM assigns it. On the wire a string (empty for none).
    public var address: IPNetwork?
    /// The delegate CNI config; absent on detach when the backend cannot rebuild it (the link is then removed by name).
    public var delegate: JSONValue?
    /// The static routes this interface carries in the pod, with their metric (``PodRoute/metric(position:)``).
    public var routes: [NICRoute]?

    public init(master: String, deviceID: String? = nil, ifName: String, address: IPNetwork?, delegate: JSONValue?,
                routes: [NICRoute]? = nil) {
        self.routes = routes
        self.master = master
        self.deviceID = deviceID
        self.ifName = ifName
        self.address = address
        self.delegate = delegate
    }

    private enum CodingKeys: String, CodingKey {
        case master, deviceID, ifName, address, delegate, routes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        master = try container.decode(String.self, forKey: .master)
        deviceID = try container.decodeIfPresent(String.self, forKey: .deviceID)
        ifName = try container.decode(String.self, forKey: .ifName)
        let text = try container.decodeIfPresent(String.self, forKey: .address) ?? ""
        if text.isEmpty {
            address = nil
        } else {
            guard let network = IPNetwork(text) else {
                throw DecodingError.dataCorruptedError(forKey: .address, in: container, debugDescription: "not an address/prefix")
            }
            address = network
        }
        delegate = try container.decodeIfPresent(JSONValue.self, forKey: .delegate)
        routes = try container.decodeIfPresent([NICRoute].self, forKey: .routes)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(master, forKey: .master)
        try container.encodeIfPresent(deviceID, forKey: .deviceID)
        try container.encode(ifName, forKey: .ifName)
        try container.encode(address?.description ?? "", forKey: .address)
        try container.encodeIfPresent(delegate, forKey: .delegate)
        try container.encodeIfPresent(routes, forKey: .routes)
    }
}

/// `POST /detach`: releases a container's addresses on a network and returns the NICs to remove.
public struct DetachRequest: Codable, Sendable, Hashable {
    public var containerID: String
    public var network: String
    /// The pod interface (`CNI_IFNAME`): only it and its per-NIC interfaces `<ifName>-<k>` are released. Without
    /// it, every address of the container on the network is.
    public var ifName: String?
    public var cniVersion: String
    public var plugin: [String: JSONValue]

    public init(containerID: String, network: String, ifName: String? = nil, cniVersion: String, plugin: [String: JSONValue]) {
        self.containerID = containerID
        self.network = network
        self.ifName = ifName
        self.cniVersion = cniVersion
        self.plugin = plugin
    }
}

/// `POST /leases`: what the daemon holds for a container on a network (one attachment when `ifName` is given:
/// it and its per-NIC interfaces `<ifName>-<k>`).
public struct LeaseQuery: Codable, Sendable, Hashable {
    public var network: String
    public var containerID: String
    public var ifName: String?

    public init(network: String, containerID: String, ifName: String? = nil) {
        self.network = network
        self.containerID = containerID
        self.ifName = ifName
    }
}

/// The answer of `/attach` and `/detach`.
public struct AttachResponse: Codable, Sendable, Hashable {
    public var nics: [AttachedNIC]

    public init(nics: [AttachedNIC]) { self.nics = nics }
}

/// Releases the CNI binary could not hand to the daemon (it was down during a DEL): one `DetachRequest` JSON file per
/// attachment in this directory, replayed by the daemon when it starts and periodically after that.
public enum PendingReleases {
    /// The CNI binary's node-local state directory (attachment cache, release queue).
    public static let defaultCNIStateDirectory = "/var/lib/multinic/cni"
    /// The queue inside a CNI state directory.
    public static func directory(inCNIState state: String) -> String { state + "/pending-release" }

    /// The file name for one attachment: characters outside `[A-Za-z0-9._-]` become `_`.
    public static func fileName(network: String, containerID: String) -> String {
        safeName(network) + "_" + safeName(containerID) + ".json"
    }

    /// `text` with every character outside `[A-Za-z0-9._-]` replaced by `_`: no `/`, so always one path component
    /// (callers add a suffix, so the result is never `.` or `..`).
    public static func safeName(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", ".", "-": Character(scalar)
            default: "_"
            }
        })
    }
}

/// One static pod route on one pod interface.
public struct NICRoute: Codable, Sendable, Hashable {
    public var route: PodRoute
    /// Lower is preferred: NIC k of a pod uses ``PodRoute/metric(position:)``.
    public var metric: UInt32

    public init(route: PodRoute, metric: UInt32) {
        self.route = route
        self.metric = metric
    }
}
