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
    /// The pod's devices the selection used (topology policy).
    public var podDevices: PodDeviceSet?

    public init(deviceIDs: [String], masters: [String], reasons: [String]? = nil, podDevices: PodDeviceSet? = nil) {
        self.deviceIDs = deviceIDs
        self.masters = masters
        self.reasons = reasons
        self.podDevices = podDevices
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

    /// `ip/block` typed (read by the CIDR parser); `nil` when the answer is malformed.
    public var podAddress: IPNetwork? { IPNetwork(ip + "/" + block) }
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
    /// Where the topology policy learns a pod's GPUs: `podresources <socket>` or `checkpoint <file>`.
    public var deviceSource: String?

    public init(node: String, pools: [Pool], routesInSync: [String: Bool], degraded: [String], deviceSource: String? = nil) {
        self.node = node
        self.pools = pools
        self.routesInSync = routesInSync
        self.degraded = degraded
        self.deviceSource = deviceSource
    }
}

/// The body of every error answer: `{"error": "..."}`.
public struct DaemonErrorBody: Codable, Sendable, Hashable {
    public var error: String

    public init(error: String) { self.error = error }
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
