/// One device of a prepared claim, as the kubelet is told it.
public struct DRAPreparedDevice: Sendable, Hashable {
    public var requestNames: [String]
    public var pool: String
    public var device: String

    public init(requestNames: [String], pool: String, device: String) {
        self.requestNames = requestNames
        self.pool = pool
        self.device = device
    }
}

/// What the kubelet plugin asks of the node daemon, one claim at a time: errors are per claim (the kubelet retries
/// the claims that failed; the others stay prepared).
public protocol DRAClaimHandler: Sendable {
    /// Prepares the claim; its devices, or why not.
    func prepare(namespace: String, name: String, uid: String) async -> Result<[DRAPreparedDevice], DRAClaimFailure>
    /// Unprepares the claim (nothing prepared is success); nil, or why not.
    func unprepare(namespace: String, name: String, uid: String) async -> DRAClaimFailure?
}

/// Why a claim was not (un)prepared: the sentence the kubelet records in the pod's events.
public struct DRAClaimFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
