import Foundation
import MultiNICController
import MultiNICCore
import MultiNICDaemonClient

/// The lab's daemons, reached over their unix sockets (one per lab host).
public struct LabFleet: DaemonClientFleet {
    let sockets: [String: String]

    public init(sockets: [String: String]) {
        self.sockets = sockets
    }

    public func nodes() async -> [String] {
        sockets.filter { FileManager.default.fileExists(atPath: $0.value) }.keys.sorted()
    }

    public func client(for node: String) async throws(FleetError) -> DaemonClient {
        guard let socket = sockets[node] else { throw .unreachable(node: node, reason: "not a lab host") }
        return DaemonClient(socketPath: socket, timeoutSeconds: 10)
    }

    /// The daemon's `/status`, for `lab status`.
    public func status(node: String) async -> DaemonStatus? {
        try? await call(node) { client throws(DaemonClientError) in try client.status() }
    }
}
