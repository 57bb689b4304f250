/// Native attach: a backend configures a pod interface inside the node daemon's process through the host's
/// ``LinkOperations`` (netlink), instead of the host running a delegate CNI plugin for it. Optional: a backend that
/// does not conform to ``NativeAttaching`` (sriov), or a network with `nativeAttach: false`, keeps the delegate path.

/// The virtual link a backend asks the host for on the selected master.
public struct VirtualLinkRequest: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// macvlan `mode`: bridge, private, vepa, passthru.
        case macvlan(mode: String)
        /// ipvlan `mode` (l2, l3, l3s) and flag (bridge, private, vepa).
        case ipvlan(mode: String, flag: String)
    }

    /// The kernel's names of the kinds a native attach creates: only links of these kinds are ever removed as left
    /// over (a pod's own veth that happens to be called `net1-1` is not ours).
    public static let kernelKinds: Set<String> = ["macvlan", "ipvlan"]

    public var kind: Kind
    /// nil: the master's MTU (the kernel's default for both kinds).
    public var mtu: Int?
    /// `aa:bb:cc:dd:ee:ff`, or nil for one the kernel picks.
    public var macAddress: String?

    public init(kind: Kind, mtu: Int? = nil, macAddress: String? = nil) {
        self.kind = kind
        self.mtu = mtu
        self.macAddress = macAddress
    }
}

/// One pod interface as the kernel reports it.
public struct PodLinkState: Sendable, Hashable {
    public var name: String
    /// `macvlan`, `ipvlan`, …
    public var kind: String
    /// The kind's mode by name (`bridge`, `l2`, …) when the host could read it.
    public var mode: String?
    public var mtu: Int
    public var macAddress: String?
    public var isUp: Bool
    public var addresses: [IPNetwork]
    /// The routes through this interface that the attach added (not the kernel's own prefix routes).
    public var routes: [PodRoute]

    public init(name: String, kind: String, mode: String?, mtu: Int, macAddress: String?, isUp: Bool,
                addresses: [IPNetwork], routes: [PodRoute]) {
        self.name = name
        self.kind = kind
        self.mode = mode
        self.mtu = mtu
        self.macAddress = macAddress
        self.isUp = isUp
        self.addresses = addresses
        self.routes = routes
    }
}

/// Why a link operation failed, in the words of the request (`ip link add net1-0 …: already exists (EEXIST)`).
public struct LinkOperationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What a backend may do to links during one native attach: bound by the host to the pod's network namespace (and
/// the host's, where the masters are). Names are pod interface names (`net1-0`) or host NIC names (masters); the
/// host validates both before the kernel sees them.
public protocol LinkOperations: Sendable {
    /// Creates the link on host NIC `master` directly inside the pod's namespace as `ifName`: down, no addresses.
    func createLink(_ request: VirtualLinkRequest, master: String, ifName: String) throws(LinkOperationError)
    /// Adds `address` (with its prefix; IPv4 with its broadcast address) to the pod interface.
    func addAddress(_ address: IPNetwork, ifName: String) throws(LinkOperationError)
    /// Adds `route` through the pod interface (scope global, protocol boot: as a delegate does).
    func addRoute(_ route: PodRoute, ifName: String) throws(LinkOperationError)
    /// Sets the pod interface up, with ARP notification on (a gratuitous ARP announces the new MAC on the fabric).
    func setUp(ifName: String) throws(LinkOperationError)
    /// Deletes the pod interface; succeeds when there is none.
    func deleteLink(ifName: String) throws(LinkOperationError)
    /// Deletes these pod interfaces together (DEL of a whole attachment): in one kernel batch where the host can,
    /// else one by one; succeeds for those already gone.
    func deleteLinks(ifNames: [String]) throws(LinkOperationError)
    /// The pod interface now; nil when there is none.
    func state(ifName: String) throws(LinkOperationError) -> PodLinkState?
    /// Every link in the pod's namespace, name → kind (`macvlan`, `veth`, empty for a physical device), in one
    /// dump: what an interrupted attach may have left.
    func linkKinds() throws(LinkOperationError) -> [String: String]
}

/// Why a native attach, detach or check failed.
public enum NativeAttachError: Error, Sendable, Hashable, CustomStringConvertible {
    /// This attachment cannot be done natively (e.g. a delegated IPAM section): the host uses the delegate path.
    case unsupported(String)
    /// The plugin config has a bad value (names the field).
    case invalidConfig(String)
    /// The kernel refused a step.
    case link(LinkOperationError)
    /// CHECK found the interface different from what the attach made.
    case mismatch(String)

    public var description: String {
        switch self {
        case .unsupported(let reason): "not attachable natively: \(reason)"
        case .invalidConfig(let reason): reason
        case .link(let error): error.description
        case .mismatch(let reason): reason
        }
    }
}

/// A backend that can attach, detach and check one pod interface itself (the node fast path).
public protocol NativeAttaching: MainPlugin {
    /// Configures `ifName` in the pod for `attachment` and returns it as the kernel has it afterwards. On failure
    /// the interface is gone again (nothing half-made is left).
    func attach(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError) -> PodLinkState
    /// Removes `ifName` from the pod; succeeds when it is already gone.
    func detach(ifName: String, links: any LinkOperations) throws(NativeAttachError)
    /// Verifies `ifName` is still what `attach` made for `attachment`.
    func check(_ attachment: NICAttachment, ifName: String, links: any LinkOperations) throws(NativeAttachError)
}
