/// One GPU (or other accelerator) the kubelet gave a pod, and where it sits.
public struct PodGPU: Sendable, Hashable, Codable {
    /// `nvidia.com/gpu`, …
    public var resourceName: String
    /// As the device plugin names it: a PCI bus id or a GPU UUID.
    public var deviceID: String
    /// Nil when the device could not be found on the PCIe tree.
    public var location: PCILocation?

    public init(resourceName: String, deviceID: String, location: PCILocation? = nil) {
        self.resourceName = resourceName
        self.deviceID = deviceID
        self.location = location
    }
}

/// The devices the daemon found for a pod and used to pick its NICs (`/attach` answers it, `multi-nicd` logs it).
public struct PodDeviceSet: Sendable, Hashable, Codable {
    /// Where the answer came from.
    public enum Source: String, Sendable, Hashable, Codable {
        /// The kubelet's PodResources API.
        case podResources = "podresources"
        /// The device plugins' checkpoint file (no PodResources socket).
        case checkpoint
        /// Nothing could be asked.
        case none
    }

    public var source: Source
    public var gpus: [PodGPU]
    /// Why the topology is partly or wholly unknown (the kubelet did not answer, a GPU not found on the PCIe tree).
    public var problems: [String]

    public init(source: Source, gpus: [PodGPU] = [], problems: [String] = []) {
        self.source = source
        self.gpus = gpus
        self.problems = problems
    }

    /// The GPUs with a place on the PCIe tree (what the topology policy ranks by).
    public var locations: [PCILocation] { gpus.compactMap(\.location) }
}
