import Foundation
import MultiNICCNI
import MultiNICCore
import MultiNICDaemonClient
import MultiNICTestSupport
import Testing

/// The CNI binary's daemon client (its own HTTP/1.1 over the unix socket, no libcurl) against a real multi-nicd.
@Suite(.ownThread) struct DaemonClientTests {
    @Test func allocatesReleasesAndReportsErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-client-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try BuiltPlugins.withDirectory(BuiltPlugins.repositoryPlugins()) { plugins in
            let daemon = try RunningDaemon(directory: directory, pluginsDirectory: plugins)
            defer { daemon.kill() }
            let client = DaemonClient(socketPath: daemon.socketPath)
            let request = AllocateRequest(pod: "p", namespace: "default", host: "n1", def: "net", masters: ["lo"],
                                          containerID: "c1", ifNames: ["net1-0"], podUID: "u1")
            let allocated = try client.post(DaemonAPI.allocatePath, request, as: [IPAllocation].self)
            #expect(allocated == [IPAllocation(interface: "lo", ip: "10.60.0.1", block: "16", ifName: "net1-0")])
            var unknown = request
            unknown.def = "other"
            #expect {
                try client.post(DaemonAPI.allocatePath, unknown, as: [IPAllocation].self)
            } throws: { error in
                guard case DaemonClientError.rejected(404, let message) = error else { return false }
                return message.contains("no IPPool of network other")
            }
            let released = try client.post(DaemonAPI.deallocatePath, request, as: [IPAllocation].self)
            #expect(released.map(\.ip) == ["10.60.0.1"])
            let status = try client.get(DaemonAPI.statusPath, as: DaemonStatus.self)
            #expect(status.node == "n1")
        }
    }

    @Test func anAbsentDaemonIsTryAgainLater() {
        let client = DaemonClient(socketPath: "/nonexistent/multinic.sock", timeoutSeconds: 2)
        #expect {
            try client.get(DaemonAPI.statusPath, as: DaemonStatus.self)
        } throws: { error in
            guard let error = error as? DaemonClientError, case .unreachable(let socket, _) = error else { return false }
            return socket == "/nonexistent/multinic.sock" && error.cniError.code == CNIError.tryAgainLater
        }
    }
}
