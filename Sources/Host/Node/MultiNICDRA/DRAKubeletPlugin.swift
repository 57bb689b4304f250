import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore
import Synchronization

/// The kubelet plugin of DRA mode: the registration service (`pluginregistration.Registration`) on
/// `<registry>/<driver>-reg.sock`, which the kubelet's plugin watcher finds, and the DRA service
/// (`k8s.io.kubelet.pkg.apis.dra.v1.DRAPlugin`) on `<plugins>/<driver>/dra.sock`, which registration names.
public final class DRAKubeletPlugin: Sendable {
    /// Where the two sockets go.
    public struct Paths: Sendable, Hashable {
        public var registrationSocket: String
        public var pluginSocket: String

        /// The kubelet's directories (`/var/lib/kubelet/plugins_registry`, `/var/lib/kubelet/plugins`).
        public init(driver: String, registryDirectory: String = "/var/lib/kubelet/plugins_registry",
                    pluginsDirectory: String = "/var/lib/kubelet/plugins") {
            registrationSocket = registryDirectory + "/" + driver + "-reg.sock"
            pluginSocket = pluginsDirectory + "/" + driver + "/dra.sock"
        }
    }

    /// The gRPC service the registration offers (the kubelet picks one it speaks).
    public static let supportedVersions = ["v1.DRAPlugin"]

    public let driver: String
    public let paths: Paths
    let handler: any DRAClaimHandler
    private let tasks = Mutex<[Task<Void, any Error>]>([])
    /// What the kubelet said of the registration (nil until it did).
    let status = Mutex<(registered: Bool, error: String)?>(nil)

    public init(driver: String, paths: Paths, handler: any DRAClaimHandler) {
        self.driver = driver
        self.paths = paths
        self.handler = handler
    }

    /// The kubelet's verdict on the registration, once it gave one.
    public var registration: (registered: Bool, error: String)? { status.withLock { $0 } }

    /// Serves the DRA socket, then the registration socket (the kubelet dials the plugin as soon as it registers it);
    /// returns once both accept connections.
    public func start() async throws {
        try await serve(paths.pluginSocket, DRAService(owner: self))
        try await serve(paths.registrationSocket, RegistrationService(owner: self))
    }

    /// Stops both servers and waits until they are done (a server closing late would otherwise take the socket file
    /// of a plugin started after it with it), then removes the socket files.
    public func stop() async {
        let running = tasks.withLock { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { _ = await task.result }
        for path in [paths.registrationSocket, paths.pluginSocket] { try? FileManager.default.removeItem(atPath: path) }
    }

    private func serve(_ path: String, _ service: any RegistrableRPCService) async throws {
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: path)
        let transport = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: path), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [service])
        tasks.withLock { $0.append(Task { try await server.serve() }) }
        for _ in 0..<500 {
            if (try? await transport.listeningAddress) != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw DRAClaimFailure("the kubelet plugin did not listen on \(path)")
    }

    struct RegistrationService: Pluginregistration_Registration.SimpleServiceProtocol {
        let owner: DRAKubeletPlugin

        func getInfo(request: Pluginregistration_InfoRequest, context: ServerContext) async throws -> Pluginregistration_PluginInfo {
            var info = Pluginregistration_PluginInfo()
            info.type = "DRAPlugin"
            info.name = owner.driver
            info.endpoint = owner.paths.pluginSocket
            info.supportedVersions = DRAKubeletPlugin.supportedVersions
            return info
        }

        func notifyRegistrationStatus(request: Pluginregistration_RegistrationStatus, context: ServerContext) async throws
            -> Pluginregistration_RegistrationStatusResponse
        {
            owner.status.withLock { $0 = (request.pluginRegistered, request.error) }
            return Pluginregistration_RegistrationStatusResponse()
        }
    }

    struct DRAService: K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.SimpleServiceProtocol {
        let owner: DRAKubeletPlugin

        func nodePrepareResources(request: K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest, context: ServerContext) async throws
            -> K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesResponse
        {
            var response = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesResponse()
            for claim in request.claims {
                var answer = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourceResponse()
                switch await owner.handler.prepare(namespace: claim.namespace, name: claim.name, uid: claim.uid) {
                case .success(let devices):
                    answer.devices = devices.map { device in
                        var message = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Device()
                        message.requestNames = device.requestNames
                        message.poolName = device.pool
                        message.deviceName = device.device
                        return message
                    }
                case .failure(let failure):
                    answer.error = failure.description
                }
                response.claims[claim.uid] = answer
            }
            return response
        }

        func nodeUnprepareResources(request: K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesRequest, context: ServerContext) async throws
            -> K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesResponse
        {
            var response = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesResponse()
            for claim in request.claims {
                var answer = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourceResponse()
                if let failure = await owner.handler.unprepare(namespace: claim.namespace, name: claim.name, uid: claim.uid) {
                    answer.error = failure.description
                }
                response.claims[claim.uid] = answer
            }
            return response
        }
    }
}
