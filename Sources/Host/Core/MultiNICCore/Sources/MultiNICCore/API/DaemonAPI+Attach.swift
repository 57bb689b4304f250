/// The bodies of MultiNIC's one-round-trip CNI calls: `/attach`, `/detach` and `/leases`.

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
    /// The pod's network namespace (`CNI_NETNS`): when given, the daemon configures every NIC itself (native attach)
    /// if the backend can and the network allows it; the NICs it configured come back with ``AttachedNIC/native``.
    public var netns: String?
    /// The network's `nativeAttach` (false keeps the delegate path even where the backend could attach natively).
    public var nativeAttach: Bool?
    /// The device Multus handed this ADD (`deviceID` / `runtimeConfig.deviceID`): in DRA mode, the ID of a claimed
    /// NIC, which names the claim whose NICs the pod gets.
    public var deviceID: String?

    public init(pod: String, namespace: String, podUID: String? = nil, containerID: String, ifName: String, network: String,
                cniVersion: String, plugin: [String: JSONValue], masterNets: [String]? = nil,
                attachPolicy: AttachPolicySpec? = nil, resourceNames: [String]? = nil, args: SelectArgs? = nil,
                routes: [PodRoute]? = nil, delegatedIPAM: JSONValue? = nil, gpusPerNUMA: [String: Int]? = nil,
                netns: String? = nil, nativeAttach: Bool? = nil, deviceID: String? = nil) {
        self.deviceID = deviceID
        self.gpusPerNUMA = gpusPerNUMA
        self.netns = netns
        self.nativeAttach = nativeAttach
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
    /// True when the daemon configured this interface itself (native attach): no delegate runs for it.
    public var native: Bool?
    /// The MAC of a natively configured interface (for the CNI result).
    public var mac: String?

    public init(master: String, deviceID: String? = nil, ifName: String, address: IPNetwork?, delegate: JSONValue?,
                routes: [NICRoute]? = nil, native: Bool? = nil, mac: String? = nil) {
        self.routes = routes
        self.native = native
        self.mac = mac
        self.master = master
        self.deviceID = deviceID
        self.ifName = ifName
        self.address = address
        self.delegate = delegate
    }

    private enum CodingKeys: String, CodingKey {
        case master, deviceID, ifName, address, delegate, routes, native, mac
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
        native = try container.decodeIfPresent(Bool.self, forKey: .native)
        mac = try container.decodeIfPresent(String.self, forKey: .mac)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(master, forKey: .master)
        try container.encodeIfPresent(deviceID, forKey: .deviceID)
        try container.encode(ifName, forKey: .ifName)
        try container.encode(address?.description ?? "", forKey: .address)
        try container.encodeIfPresent(delegate, forKey: .delegate)
        try container.encodeIfPresent(routes, forKey: .routes)
        try container.encodeIfPresent(native, forKey: .native)
        try container.encodeIfPresent(mac, forKey: .mac)
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
    /// The pod's namespace and name (CNI_ARGS): a pod of a taken-over cluster holds its addresses by pod, not by
    /// container.
    public var namespace: String?
    public var pod: String?
    /// The pod's network namespace (`CNI_NETNS`): with native attach the daemon removes the pod's per-NIC links
    /// itself, before it releases their addresses.
    public var netns: String?
    /// The network's `nativeAttach` (false: the CNI binary runs the delegates' DEL as before).
    public var nativeAttach: Bool?

    public init(containerID: String, network: String, ifName: String? = nil, cniVersion: String, plugin: [String: JSONValue],
                namespace: String? = nil, pod: String? = nil, netns: String? = nil, nativeAttach: Bool? = nil) {
        self.containerID = containerID
        self.network = network
        self.ifName = ifName
        self.cniVersion = cniVersion
        self.plugin = plugin
        self.namespace = namespace
        self.pod = pod
        self.netns = netns
        self.nativeAttach = nativeAttach
    }
}

/// `POST /leases`: what the daemon holds for a container on a network (one attachment when `ifName` is given:
/// it and its per-NIC interfaces `<ifName>-<k>`).
public struct LeaseQuery: Codable, Sendable, Hashable {
    public var network: String
    public var containerID: String
    public var ifName: String?
    /// The pod (CNI_ARGS) and the addresses its result gives each pod interface (CHECK): leases the daemon holds
    /// for the pod by name — adopted from the original Multi-NIC CNI — are handed to this container first.
    public var namespace: String?
    public var pod: String?
    public var claims: [String: String]?

    public init(network: String, containerID: String, ifName: String? = nil, namespace: String? = nil, pod: String? = nil,
                claims: [String: String]? = nil) {
        self.network = network
        self.containerID = containerID
        self.ifName = ifName
        self.namespace = namespace
        self.pod = pod
        self.claims = claims
    }
}

/// The answer of `/attach` and `/detach`.
public struct AttachResponse: Codable, Sendable, Hashable {
    public var nics: [AttachedNIC]
    /// The pod's devices the selection used (topology policy); absent otherwise.
    public var devices: PodDeviceSet?

    public init(nics: [AttachedNIC], devices: PodDeviceSet? = nil) {
        self.nics = nics
        self.devices = devices
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
