import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// The kubelet's side of the DRA service: NodePrepareResources / NodeUnprepareResources of claims over a plugin's
/// socket (the lab plays the kubelet with it). One connection per call.
public struct DRAKubeletClient: Sendable {
    /// A claim as the kubelet names it.
    public struct Claim: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var uid: String

        public init(namespace: String, name: String, uid: String) {
            self.namespace = namespace
            self.name = name
            self.uid = uid
        }
    }

    public let socket: String

    public init(socket: String) { self.socket = socket }

    /// Prepares `claims`: per claim UID, the devices prepared or the plugin's error.
    public func prepare(_ claims: [Claim]) async throws -> [String: Result<[String], DRAClaimFailure>] {
        var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest()
        request.claims = claims.map(Self.message)
        let answer = try await withClient { try await $0.nodePrepareResources(request) }
        var outcome: [String: Result<[String], DRAClaimFailure>] = [:]
        for claim in claims {
            guard let result = answer.claims[claim.uid] else {
                outcome[claim.uid] = .failure(DRAClaimFailure("the plugin did not answer for claim \(claim.uid)"))
                continue
            }
            outcome[claim.uid] = result.error.isEmpty ? .success(result.devices.map(\.deviceName)) : .failure(DRAClaimFailure(result.error))
        }
        return outcome
    }

    /// Unprepares `claims`: per claim UID, the plugin's error (nil: done).
    public func unprepare(_ claims: [Claim]) async throws -> [String: DRAClaimFailure?] {
        var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesRequest()
        request.claims = claims.map(Self.message)
        let answer = try await withClient { try await $0.nodeUnprepareResources(request) }
        var outcome: [String: DRAClaimFailure?] = [:]
        for claim in claims {
            let error = answer.claims[claim.uid]?.error ?? "the plugin did not answer for claim \(claim.uid)"
            outcome[claim.uid] = error.isEmpty ? nil : DRAClaimFailure(error)
        }
        return outcome
    }

    static func message(_ claim: Claim) -> K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim {
        var message = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim()
        message.namespace = claim.namespace
        message.name = claim.name
        message.uid = claim.uid
        return message
    }

    private func withClient<T: Sendable>(_ body: (K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)
        let grpc = GRPCClient(transport: transport)
        let running = Task { try? await grpc.runConnections() }
        defer {
            grpc.beginGracefulShutdown()
            running.cancel()
        }
        return try await body(K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client(wrapping: grpc))
    }
}
