import MultiNICCore
import MultiNICDaemonClient

/// A fleet of real daemons reached through ``DaemonClient``: a conforming type says how to reach a node (socket or
/// address, token, trust) and the six calls are made here, once, for the lab and the operator alike.
public protocol DaemonClientFleet: DaemonFleet {
    /// The client of `node`'s daemon.
    func client(for node: String) async throws(FleetError) -> DaemonClient
    /// The daemon refused the client's credentials (HTTP 401): forget them.
    func refused(node: String) async
}

extension DaemonClientFleet {
    public func refused(node: String) async {}

    /// Runs one blocking call off the concurrency pool; daemon errors become ``FleetError``s naming the node.
    public func call<T: Sendable>(_ node: String, _ body: @escaping @Sendable (DaemonClient) throws(DaemonClientError) -> T)
        async throws(FleetError) -> T
    {
        let client = try await client(for: node)
        do {
            return try await client.detached(body)
        } catch {
            switch error {
            case .rejected(let status, let message):
                if status == 401 { await refused(node: node) }
                throw .rejected(node: node, status: status, message: message)
            case .badAnswer(let reason):
                throw .rejected(node: node, status: 200, message: "unexpected answer: \(reason)")
            case .unreachable(_, let reason):
                throw .unreachable(node: node, reason: reason)
            }
        }
    }

    public func interfaces(node: String) async throws(FleetError) -> [InterfaceInfo] {
        try await call(node) { client throws(DaemonClientError) in try client.interfaces() }
    }

    public func setPools(node: String, _ pools: [IPPool]) async throws(FleetError) {
        _ = try await call(node) { client throws(DaemonClientError) in try client.setPools(pools) }
    }

    public func setRoutes(node: String, _ request: L3Request) async throws(FleetError) -> L3Response {
        try await call(node) { client throws(DaemonClientError) in try client.setRoutes(request) }
    }

    public func deleteRoutes(node: String, network: String) async throws(FleetError) {
        _ = try await call(node) { client throws(DaemonClientError) in try client.deleteRoutes(network: network) }
    }

    public func podLeases(node: String) async throws(FleetError) -> PodLeaseSnapshot {
        try await call(node) { client throws(DaemonClientError) in try client.podLeases() }
    }

    public func releasePods(node: String, _ request: PodReleaseRequest) async throws(FleetError) -> [IPAllocation] {
        try await call(node) { client throws(DaemonClientError) in try client.releasePods(request) }
    }
}
