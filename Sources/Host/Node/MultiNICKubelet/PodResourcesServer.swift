import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

/// A `v1.PodResourcesLister` on a unix socket that answers from a table it is given: the lab's stand-in for a
/// kubelet (`multinicctl lab kubelet`) and the tests' kubelet. It can also behave as an older kubelet (`Get` not
/// served) or a broken one (every call fails).
public final class PodResourcesServer: Sendable {
    public typealias Pod = StandInPod
    public typealias Container = StandInPod.Container
    public typealias Devices = StandInPod.Devices

    public enum Behaviour: String, Sendable, Codable {
        /// Get and List.
        case current
        /// List only (a kubelet before the Get method).
        case listOnly
        /// Every call fails with `internal`.
        case failing
    }

    struct State {
        var pods: [Pod]
        var behaviour: Behaviour
        var calls: [String] = []
        /// The pods file's inode, size and modification time when `pods` was read from it.
        var podsFileStamp: String?
    }

    public let socketPath: String
    /// A JSON list of ``Pod`` read at every call instead of the table (the lab writes it as it creates pods).
    public let podsFile: String?
    let state: Mutex<State>
    private let task = Mutex<Task<Void, any Error>?>(nil)

    public init(socketPath: String, pods: [Pod] = [], behaviour: Behaviour = .current, podsFile: String? = nil) {
        self.socketPath = socketPath
        self.podsFile = podsFile
        state = Mutex(State(pods: pods, behaviour: behaviour))
    }

    /// Listens (replacing a stale socket file) and returns once the socket accepts connections.
    public func start() async throws {
        try? FileManager.default.removeItem(atPath: socketPath)
        let transport = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [Service(owner: self)])
        task.withLock { $0 = Task { try await server.serve() } }
        for _ in 0..<500 {
            if (try? await transport.listeningAddress) != nil { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw KubeletError.unreachable("the stand-in kubelet did not listen on \(socketPath)")
    }

    public func stop() {
        task.withLock { $0?.cancel() }
        try? FileManager.default.removeItem(atPath: socketPath)
    }

    public func set(pods: [Pod]) { state.withLock { $0.pods = pods } }
    public func set(behaviour: Behaviour) { state.withLock { $0.behaviour = behaviour } }
    /// The methods called, in order (`Get`, `List`).
    public var calls: [String] { state.withLock { $0.calls } }

    /// One stand-in pod as the PodResources message the kubelet would send.
    public static func message(_ pod: Pod) -> V1_PodResources {
        var message = V1_PodResources()
        message.namespace = pod.namespace
        message.name = pod.name
        message.containers = pod.containers.map { container in
            var resources = V1_ContainerResources()
            resources.name = container.name
            resources.devices = container.devices.map { set in
                var devices = V1_ContainerDevices()
                devices.resourceName = set.resourceName
                devices.deviceIds = set.deviceIDs
                devices.topology.nodes = set.numaNodes.map { node in
                    var numa = V1_NUMANode()
                    numa.id = Int64(node)
                    return numa
                }
                return devices
            }
            return resources
        }
        return message
    }

    struct Service: V1_PodResourcesLister.SimpleServiceProtocol {
        let owner: PodResourcesServer

        func record(_ method: String) throws -> State {
            var state = owner.state.withLock { state in
                state.calls.append(method)
                return state
            }
            if let file = owner.podsFile {
                // Read again only when the file changed: the lab replaces it (a new inode) as it creates pods; no file:
                // no pods. The inode and size tell changes apart within one tick of the file system's clock.
                let attributes = try? FileManager.default.attributesOfItem(atPath: file)
                let stamp = attributes.map { attributes -> String in
                    let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                    return "\(attributes[.systemFileNumber] ?? "")-\(attributes[.size] ?? "")-\(modified)"
                }
                if stamp == nil || stamp != state.podsFileStamp {
                    let data = FileManager.default.contents(atPath: file) ?? Data("[]".utf8)
                    guard let pods = try? JSONDecoder().decode([Pod].self, from: data) else {
                        throw RPCError(code: .internalError, message: "\(file) is not a JSON list of pods")
                    }
                    state.pods = pods
                    owner.state.withLock { $0.pods = pods; $0.podsFileStamp = stamp }
                }
            }
            if state.behaviour == .failing { throw RPCError(code: .internalError, message: "stand-in kubelet set to fail") }
            return state
        }

        func list(request: V1_ListPodResourcesRequest, context: ServerContext) async throws -> V1_ListPodResourcesResponse {
            var response = V1_ListPodResourcesResponse()
            response.podResources = try record("List").pods.map(PodResourcesServer.message)
            return response
        }

        func getAllocatableResources(request: V1_AllocatableResourcesRequest, context: ServerContext) async throws
            -> V1_AllocatableResourcesResponse
        {
            _ = try record("GetAllocatableResources")
            return V1_AllocatableResourcesResponse()
        }

        func get(request: V1_GetPodResourcesRequest, context: ServerContext) async throws -> V1_GetPodResourcesResponse {
            let state = try record("Get")
            if state.behaviour == .listOnly { throw RPCError(code: .unimplemented, message: "unknown method Get") }
            guard let pod = state.pods.first(where: { $0.namespace == request.podNamespace && $0.name == request.podName }) else {
                throw RPCError(code: .notFound, message: "pod \(request.podNamespace)/\(request.podName) not found")
            }
            var response = V1_GetPodResourcesResponse()
            response.podResources = PodResourcesServer.message(pod)
            return response
        }
    }
}
