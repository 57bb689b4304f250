import Foundation
import MultiNICCore
import Synchronization

/// Which GPUs a pod was given and where they sit: the kubelet's PodResources API when its socket exists, else the
/// device plugins' checkpoint; each device id located on the PCIe tree. Never fails: what could not be found is said
/// in `problems` and the pod is attached with the topology it has (possibly none).
public final class PodDeviceLookup: Sendable {
    public struct Configuration: Sendable {
        public var socketPath = "/var/lib/kubelet/pod-resources/kubelet.sock"
        public var checkpointPath = "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
        /// Resource names whose devices count as GPUs.
        public var gpuResources = ["nvidia.com/gpu", "amd.com/gpu", "habana.ai/gaudi"]
        public var sysfsRoot = "/sys"
        public var nvidiaRoot = "/proc/driver/nvidia"
        public var timeout: Duration = .seconds(2)

        public init() {}
    }

    public let configuration: Configuration
    #if canImport(GRPCCore)
    private let client = Mutex<PodResourcesClient?>(nil)
    #endif
    /// Device id → its place: hardware does not move while the daemon runs (a miss is looked up again each time).
    private let located = Mutex<[String: PCILocation]>([:])

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// What is asked now: `podresources <socket>` when the socket exists, else `checkpoint <file>`.
    public var source: String {
        KubeletAPIs.podResources && FileManager.default.fileExists(atPath: configuration.socketPath)
            ? "podresources \(configuration.socketPath)" : "checkpoint \(configuration.checkpointPath)"
    }

    /// The pod's GPUs. `uid` is needed only for the checkpoint.
    public func gpus(namespace: String, name: String, uid: String) async -> PodDeviceSet {
        let locator = GPULocator(sysfsRoot: configuration.sysfsRoot, nvidiaRoot: configuration.nvidiaRoot)
        let ids: [(resource: String, id: String)]
        let source: PodDeviceSet.Source
        if let answer = await askKubelet(namespace: namespace, name: name) {
            switch answer {
            case .success(let answer):
                ids = answer.filter { configuration.gpuResources.contains($0.resourceName) }
                    .flatMap { set in set.deviceIDs.map { (set.resourceName, $0) } }
                source = .podResources
            case .failure(let error):
                return PodDeviceSet(source: .podResources, problems: ["topology unknown: \(error)"])
            }
        } else if FileManager.default.fileExists(atPath: configuration.checkpointPath) {
            ids = KubeletCheckpoint(path: configuration.checkpointPath).devices(podUID: uid, resourceNames: configuration.gpuResources)
            source = .checkpoint
        } else {
            return PodDeviceSet(source: .none, problems: [
                "topology unknown: neither \(configuration.socketPath) nor \(configuration.checkpointPath) exists"])
        }
        var set = PodDeviceSet(source: source)
        var seen: Set<String> = []
        for (resource, id) in ids where seen.insert(id).inserted {
            if let known = located.withLock({ $0[id] }) {
                set.gpus.append(PodGPU(resourceName: resource, deviceID: id, location: known))
                continue
            }
            switch locator.locate(id) {
            case .success(let location):
                located.withLock { $0[id] = location }
                set.gpus.append(PodGPU(resourceName: resource, deviceID: id, location: location))
            case .failure(let failure):
                set.gpus.append(PodGPU(resourceName: resource, deviceID: id))
                set.problems.append(failure.description)
            }
        }
        return set
    }

    /// The kubelet's answer; nil when there is no socket (or this build has no gRPC).
    private func askKubelet(namespace: String, name: String) async -> Result<[ContainerDeviceSet], KubeletError>? {
        #if canImport(GRPCCore)
        guard FileManager.default.fileExists(atPath: configuration.socketPath) else { return nil }
        do {
            return .success(try await podResources().devices(namespace: namespace, name: name).devices)
        } catch {
            return .failure(error)
        }
        #else
        return nil
        #endif
    }

    #if canImport(GRPCCore)
    /// One client for the daemon's life (gRPC reconnects it when the kubelet restarts).
    private func podResources() throws(KubeletError) -> PodResourcesClient {
        if let existing = client.withLock({ $0 }) { return existing }
        let created = try PodResourcesClient(socketPath: configuration.socketPath, timeout: configuration.timeout)
        return client.withLock { current in
            if let current { return current }
            current = created
            return created
        }
    }
    #endif
}
