import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore

/// The kubelet's `v1.PodResourcesLister` over its unix socket (`/var/lib/kubelet/pod-resources/kubelet.sock`): `Get`
/// for one pod, `List` (filtered) when the kubelet does not serve `Get`. One HTTP/2 connection, opened on first use
/// and re-opened by gRPC when the kubelet restarts; every call has a deadline.
public final class PodResourcesClient: Sendable {
    public let socketPath: String
    let timeout: Duration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    public init(socketPath: String, timeout: Duration = .seconds(2)) throws(KubeletError) {
        self.socketPath = socketPath
        self.timeout = timeout
        do {
            let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext)
            let client = GRPCClient(transport: transport)
            self.client = client
            connections = Task { try? await client.runConnections() }
        } catch {
            throw .unreachable("\(socketPath): \(error)")
        }
    }

    deinit {
        client.beginGracefulShutdown()
        connections.cancel()
    }

    /// The devices of pod `namespace/name`; an empty answer when the kubelet knows the pod but gave it none.
    ///
    /// A call the connection failed under (`unavailable`) is made once more, on a new connection. The kubelet serves
    /// PodResources with grpc-go, which sends a PING with each call to size its flow-control window (BDP probing);
    /// swift-nio-http2 closes a connection that receives more than 200 PING/SETTINGS frames in 30 s
    /// (ENHANCE_YOUR_CALM), failing the call in flight. With pods attaching faster than that, every 200th call would
    /// otherwise lose its topology.
    public func devices(namespace: String, name: String) async throws(KubeletError) -> PodResourcesAnswer {
        // gRPC reconnects meanwhile; for a moment after the old connection went it answers "no subchannel
        // available" at once, so the retries are spaced (2, 10, 50 ms) and wait for the new connection.
        for pause in [2, 10, 50] {
            do {
                return try await ask(namespace: namespace, name: name, waitingForReady: pause != 2)
            } catch .unreachable {
                try? await Task.sleep(for: .milliseconds(pause))
            }
        }
        return try await ask(namespace: namespace, name: name, waitingForReady: true)
    }

    private func ask(namespace: String, name: String, waitingForReady: Bool) async throws(KubeletError) -> PodResourcesAnswer {
        let lister = V1_PodResourcesLister.Client(wrapping: client)
        var options = CallOptions.defaults
        options.timeout = timeout
        options.waitForReady = waitingForReady
        var request = V1_GetPodResourcesRequest()
        request.podName = name
        request.podNamespace = namespace
        do {
            let response = try await lister.get(request, options: options)
            return Self.answer(response.podResources)
        } catch let error as RPCError where error.code == .unimplemented {
            // An older kubelet: List and pick the pod.
        } catch let error as RPCError {
            throw Self.mapped(error)
        } catch {
            throw .failed("\(error)")
        }
        do {
            let all = try await lister.list(V1_ListPodResourcesRequest(), options: options)
            guard let pod = all.podResources.first(where: { $0.namespace == namespace && $0.name == name }) else {
                return PodResourcesAnswer(usedList: true)
            }
            var answer = Self.answer(pod)
            answer.usedList = true
            return answer
        } catch let error as RPCError {
            throw Self.mapped(error)
        } catch {
            throw .failed("\(error)")
        }
    }

    static func mapped(_ error: RPCError) -> KubeletError {
        switch error.code {
        case .unavailable, .deadlineExceeded: .unreachable("\(error.code): \(error.message)")
        default: .failed("\(error.code): \(error.message)")
        }
    }

    /// The generated message → the domain types (parsed once here).
    public static func answer(_ pod: V1_PodResources) -> PodResourcesAnswer {
        var answer = PodResourcesAnswer()
        for container in pod.containers {
            for set in container.devices {
                answer.devices.append(ContainerDeviceSet(
                    container: container.name, resourceName: set.resourceName, deviceIDs: set.deviceIds,
                    numaNodes: set.topology.nodes.compactMap { Int(exactly: $0.id) }))
            }
            for dynamic in container.dynamicResources {
                for resource in dynamic.claimResources {
                    answer.claimed.append(ClaimedDevice(container: container.name, claim: dynamic.claimName,
                                                        claimNamespace: dynamic.claimNamespace, driver: resource.driverName,
                                                        pool: resource.poolName, device: resource.deviceName))
                }
            }
        }
        return answer
    }
}
