import MultiNICCore

/// An allocation's identity: CNI's (network, container, interface). Pod names are recorded, never keys.
public struct AllocationKey: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var network: String
    public var containerID: String
    /// The pod-side interface, e.g. `net1-0`.
    public var ifName: String

    public init(network: String, containerID: String, ifName: String) {
        self.network = network
        self.containerID = containerID
        self.ifName = ifName
    }

    /// Whether this key is the pod interface `attachment` or one of its per-NIC interfaces `<attachment>-<k>`.
    public func belongs(toAttachment attachment: String) -> Bool {
        guard ifName.hasPrefix(attachment) else { return false }
        let rest = ifName.dropFirst(attachment.count)
        return rest.isEmpty || (rest.first == "-" && rest.count > 1 && rest.dropFirst().allSatisfy(\.isNumber))
    }

    /// The container ID of a pod-keyed lease: `<namespace>/<name>`. Runtimes' container IDs never hold a `/`.
    public static func podContainerID(namespace: String, name: String) -> String { "\(namespace)/\(name)" }

    /// Keyed by pod, not container: adopted from the original Multi-NIC CNI, or allocated through its `/allocate`
    /// (whose clients send no container ID). CNI GC cannot judge these; the pod's DEL and the leak sweep can.
    public var isPodKeyed: Bool { containerID.contains("/") && !isClaimKeyed }

    /// The container ID of a lease kept for an IPAMClaim (`ipamclaim:<namespace>/<name>`): it outlives its pods.
    public static func claimContainerID(namespace: String, name: String) -> String { "\(claimPrefix)\(namespace)/\(name)" }

    /// Keyed by an IPAMClaim (persistent addresses): neither CNI GC, nor a pod's DEL, nor the pod sweep releases it;
    /// only the claim's deletion does.
    public var isClaimKeyed: Bool { containerID.hasPrefix(Self.claimPrefix) }

    /// The IPAMClaim (namespace, name) of a ``claimContainerID(namespace:name:)``; nil for any other container ID.
    public static func claim(ofContainerID containerID: String) -> (namespace: String, name: String)? {
        guard containerID.hasPrefix(claimPrefix) else { return nil }
        let parts = containerID.dropFirst(claimPrefix.count).split(separator: "/", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    static let claimPrefix = "ipamclaim:"

    /// The container ID of a lease prepared for a DRA ResourceClaim (`draclaim:<uid>`).
    public static func resourceClaimContainerID(uid: String) -> String { "draclaim:\(uid)" }

    /// Prepared for a DRA ResourceClaim: the kubelet's NodeUnprepareResources releases it, nothing else.
    public var isResourceClaimKeyed: Bool { containerID.hasPrefix("draclaim:") }

    /// Kept across pods (an IPAMClaim's or a ResourceClaim's): CNI GC and the pod sweep leave it alone.
    public var outlivesPods: Bool { isClaimKeyed || isResourceClaimKeyed }

    public static func < (lhs: AllocationKey, rhs: AllocationKey) -> Bool {
        (lhs.network, lhs.containerID, lhs.ifName) < (rhs.network, rhs.containerID, rhs.ifName)
    }

    public var description: String { "\(network)/\(containerID)/\(ifName)" }
}

/// The pod an allocation belongs to (for GC and display).
public struct PodRef: Codable, Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var uid: String

    public init(namespace: String = "", name: String = "", uid: String = "") {
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}

/// One block this host may hand out: an IPPool of this host.
public struct PoolBlock: Codable, Sendable, Hashable {
    /// The IPPool name.
    public var name: String
    /// The network (NAD) name.
    public var network: String
    /// The host NIC the block belongs to.
    public var interfaceName: String
    public var podCIDR: IPNetwork
    /// Prefix length handed to pods (the interface block's, e.g. 18).
    public var podPrefix: Int
    /// Addresses never handed out.
    public var excludes: [IPNetwork]
    /// The only pod namespaces this pool serves; `nil` for every namespace (``IPPoolSpec/namespacesAnnotation``).
    public var namespaces: [String]?
    /// The cloud whose API must learn each address before the pod gets it (``IPPoolSpec/cloudProvider``).
    public var cloudProvider: String?

    public init(name: String, network: String, interfaceName: String, podCIDR: IPNetwork, podPrefix: Int,
                excludes: [IPNetwork] = [], namespaces: [String]? = nil, cloudProvider: String? = nil) {
        self.name = name
        self.network = network
        self.interfaceName = interfaceName
        self.podCIDR = podCIDR
        self.podPrefix = podPrefix
        self.excludes = excludes
        self.namespaces = namespaces
        self.cloudProvider = cloudProvider
    }

    /// True when a pod of `namespace` may get an address from this pool.
    public func serves(namespace: String) -> Bool { namespaces.map { $0.contains(namespace) } ?? true }

    /// What makes this block unusable, or `nil` (``IPPoolSpec/problem(name:network:interfaceName:podCIDR:podPrefix:)``).
    public var problem: String? {
        IPPoolSpec.problem(name: name, network: network, interfaceName: interfaceName, podCIDR: podCIDR, podPrefix: podPrefix)
    }

    /// The block of an IPPool resource; `nil` when its CIDRs do not parse.
    public init?(pool: IPPool) {
        guard let podCIDR = IPNetwork(pool.spec.podCIDR)?.normalized, let vlan = IPNetwork(pool.spec.vlanCIDR) else { return nil }
        let excludes = pool.spec.excludes.compactMap { try? IPNetwork.parse($0, bareAddressAsHost: true).get() }
        self.init(name: pool.name, network: pool.spec.netAttachDef, interfaceName: pool.spec.interfaceName,
                  podCIDR: podCIDR, podPrefix: vlan.prefixLength, excludes: excludes, namespaces: IPPoolSpec.namespaces(of: pool),
                  cloudProvider: pool.spec.cloudProvider)
    }
}

/// A handed-out address.
public struct Lease: Codable, Sendable, Hashable {
    public var key: AllocationKey
    public var pod: PodRef
    /// The IPPool it came from.
    public var pool: String
    /// The host NIC (master).
    public var interfaceName: String
    public var address: IPAddress
    /// Prefix length for the pod's address.
    public var prefixLength: Int

    public init(key: AllocationKey, pod: PodRef, pool: String, interfaceName: String, address: IPAddress, prefixLength: Int) {
        self.key = key
        self.pod = pod
        self.pool = pool
        self.interfaceName = interfaceName
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The pod's address with its interface block's prefix (`192.168.0.65/18`).
    public var podAddress: IPNetwork { IPNetwork(address: address, prefixLength: prefixLength) }
}

/// One interface of a multi-NIC allocation request.
public struct AllocationRequest: Sendable, Hashable {
    /// Pod-side interface name (`net1-0`).
    public var ifName: String
    /// The IPPool to take the address from.
    public var pool: String

    public init(ifName: String, pool: String) {
        self.ifName = ifName
        self.pool = pool
    }
}

/// Why the IPAM refused.
public enum IPAMError: Error, Sendable, Hashable, CustomStringConvertible {
    case unknownPool(String)
    case poolExhausted(pool: String, inUse: Int, quarantined: Int)
    /// The key is already allocated from another pool.
    case keyInOtherPool(AllocationKey, existing: String, requested: String)
    /// The journal could not be written; nothing was acknowledged.
    case journal(String)
    /// The state directory cannot be used.
    case storage(String)

    public var description: String {
        switch self {
        case .unknownPool(let name): "no IPPool \(name) on this host"
        case .poolExhausted(let pool, let inUse, let quarantined):
            "IPPool \(pool) is exhausted: \(inUse) address(es) in use, \(quarantined) in quarantine after release"
        case .keyInOtherPool(let key, let existing, let requested):
            "\(key) already holds an address from \(existing), not \(requested)"
        case .journal(let reason): "allocation journal: \(reason)"
        case .storage(let reason): "state directory: \(reason)"
        }
    }
}
