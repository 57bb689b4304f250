import MultiNICCore

/// Why a daemon call failed.
public enum FleetError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No daemon is known for the node, or it does not answer.
    case unreachable(node: String, reason: String)
    /// The daemon answered with an error.
    case rejected(node: String, status: Int, message: String)

    public var description: String {
        switch self {
        case .unreachable(let node, let reason): "daemon on \(node) unreachable: \(reason)"
        case .rejected(let node, let status, let message): "daemon on \(node) refused (HTTP \(status)): \(message)"
        }
    }
}

/// The node daemons as the controller sees them: the lab talks to them over their unix sockets, the operator over
/// TCP with the bearer token, tests and benchmarks to in-process fakes.
public protocol DaemonFleet: Sendable {
    /// Nodes that have a daemon now.
    func nodes() async -> [String]
    /// The node's discovered interfaces (`GET /interface`).
    func interfaces(node: String) async throws(FleetError) -> [InterfaceInfo]
    /// Replaces the node's IPPools (`PUT /pools`): every pool of every network on that host.
    func setPools(node: String, _ pools: [IPPool]) async throws(FleetError)
    /// Sets one network's full route set on the node (`POST /addl3`).
    func setRoutes(node: String, _ request: L3Request) async throws(FleetError) -> L3Response
    /// Removes one network's routes from the node (`POST /deletel3`).
    func deleteRoutes(node: String, network: String) async throws(FleetError)
    /// The pods holding leases on the node (`GET /podleases`).
    func podLeases(node: String) async throws(FleetError) -> PodLeaseSnapshot
    /// Releases the leases of pods found gone (`POST /releasepods`).
    func releasePods(node: String, _ request: PodReleaseRequest) async throws(FleetError) -> [IPAllocation]
}
