/// Something in the original's state that a takeover must not paper over. A *blocking* conflict would lose or
/// duplicate an address: `takeover plan` exits non-zero and `takeover apply` refuses until it is resolved.
public struct TakeoverConflict: Sendable, Hashable, Comparable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// An allocation whose address is not inside its pool's podCIDR.
        case allocationOutsidePool = "allocation-outside-pool"
        /// Two pods hold one address.
        case duplicateAddress = "duplicate-address"
        /// A host of a CIDR has no HostInterface.
        case hostWithoutHostInterface = "host-without-hostinterface"
        /// An IPPool that no CIDR host entry describes (MultiNIC would delete it).
        case poolWithoutCIDR = "pool-without-cidr"
        /// An IPPool of a network that does not exist.
        case poolWithoutNetwork = "pool-without-network"
        /// A network MultiNIC's validator refuses.
        case invalidNetwork = "invalid-network"
        /// Recomputing with the original CIDR as `--previous` would move a block.
        case blockWouldMove = "block-would-move"
        /// An allocation's `index` disagrees with its address (the address is what the pod holds).
        case indexMismatch = "index-mismatch"
        /// An allocation inside the pool's `excludes`.
        case excludedAddress = "excluded-address"
        /// One pod listed twice for one address in a pool (the original's duplicated allocations).
        case repeatedAllocation = "repeated-allocation"
        /// A CIDR without its MultiNicNetwork.
        case cidrWithoutNetwork = "cidr-without-network"
        /// A host whose Node is gone: its pools' allocations are stale.
        case nodeGone = "node-gone"
        /// OLM owns the original's controller and would scale it back up: two controllers on one network.
        case olmManaged = "olm-managed"
        /// MultiNIC's daemon and the original's listen on one host port: MultiNIC's cannot start before the retire step.
        case daemonPortClash = "daemon-port-clash"
        /// The original's daemon DaemonSet has the name and namespace of MultiNIC's: MultiNIC's operator would replace it.
        case daemonSetClash = "daemonset-clash"
    }

    public var kind: Kind
    /// The network it concerns ("" for none).
    public var network: String
    /// What is wrong, naming the objects.
    public var message: String
    /// What a human does about it.
    public var action: String
    /// Whether going ahead would lose or duplicate an address.
    public var blocking: Bool

    public init(_ kind: Kind, network: String, _ message: String, action: String, blocking: Bool) {
        self.kind = kind
        self.network = network
        self.message = message
        self.action = action
        self.blocking = blocking
    }

    /// Blocking first, then by network, kind and message: a stable order for output and goldens.
    public static func < (lhs: TakeoverConflict, rhs: TakeoverConflict) -> Bool {
        (lhs.blocking ? 0 : 1, lhs.network, lhs.kind.rawValue, lhs.message) < (rhs.blocking ? 0 : 1, rhs.network, rhs.kind.rawValue, rhs.message)
    }
}
