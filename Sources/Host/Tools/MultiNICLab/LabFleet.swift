import Foundation
import MultiNICCNI
import MultiNICController
import MultiNICCore

/// The lab's daemons, reached over their unix sockets (one per lab host). Calls are blocking libcurl requests, run
/// off the concurrency pool's threads.
public struct LabFleet: DaemonFleet {
    let sockets: [String: String]

    public init(sockets: [String: String]) {
        self.sockets = sockets
    }

    public func nodes() async -> [String] {
        sockets.filter { FileManager.default.fileExists(atPath: $0.value) }.keys.sorted()
    }

    private func call<T: Sendable>(_ node: String, _ body: @escaping @Sendable (DaemonClient) throws(DaemonClientError) -> T)
        async throws(FleetError) -> T
    {
        guard let socket = sockets[node] else { throw .unreachable(node: node, reason: "not a lab host") }
        let client = DaemonClient(socketPath: socket, timeoutSeconds: 10)
        let result: Result<T, DaemonClientError> = await withCheckedContinuation { continuation in
            OSThread.detach {
                do throws(DaemonClientError) {
                    continuation.resume(returning: .success(try body(client)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(.rejected(let status, let message)): throw .rejected(node: node, status: status, message: message)
        case .failure(let error): throw .unreachable(node: node, reason: error.description)
        }
    }

    public func interfaces(node: String) async throws(FleetError) -> [InterfaceInfo] {
        try await call(node) { client throws(DaemonClientError) in try client.get(DaemonAPI.interfacePath, as: [InterfaceInfo].self) }
    }

    public func setPools(node: String, _ pools: [IPPool]) async throws(FleetError) {
        _ = try await call(node) { client throws(DaemonClientError) in try client.put(DaemonAPI.poolsPath, pools, as: DaemonStatus.self) }
    }

    public func setRoutes(node: String, _ request: L3Request) async throws(FleetError) -> L3Response {
        try await call(node) { client throws(DaemonClientError) in try client.post(DaemonAPI.addL3Path, request, as: L3Response.self) }
    }

    public func deleteRoutes(node: String, network: String) async throws(FleetError) {
        _ = try await call(node) { client throws(DaemonClientError) in
            try client.post(DaemonAPI.deleteL3Path, L3Request(name: network, subnet: "", routes: []), as: L3Response.self)
        }
    }

    public func podLeases(node: String) async throws(FleetError) -> PodLeaseSnapshot {
        try await call(node) { client throws(DaemonClientError) in try client.get(DaemonAPI.podLeasesPath, as: PodLeaseSnapshot.self) }
    }

    public func releasePods(node: String, _ request: PodReleaseRequest) async throws(FleetError) -> [IPAllocation] {
        try await call(node) { client throws(DaemonClientError) in try client.post(DaemonAPI.releasePodsPath, request, as: [IPAllocation].self) }
    }

    /// The daemon's `/status`, for `lab status`.
    public func status(node: String) async -> DaemonStatus? {
        try? await call(node) { client throws(DaemonClientError) in try client.get(DaemonAPI.statusPath, as: DaemonStatus.self) }
    }
}
