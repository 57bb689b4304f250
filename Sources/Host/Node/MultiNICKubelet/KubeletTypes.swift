import Foundation

/// Devices the kubelet gave one container, per resource name, with the NUMA nodes the device plugin reported.
public struct ContainerDeviceSet: Sendable, Hashable {
    public var container: String
    public var resourceName: String
    public var deviceIDs: [String]
    public var numaNodes: [Int]

    public init(container: String, resourceName: String, deviceIDs: [String], numaNodes: [Int] = []) {
        self.container = container
        self.resourceName = resourceName
        self.deviceIDs = deviceIDs
        self.numaNodes = numaNodes
    }
}

/// A device a DRA driver prepared for a container (PodResources' dynamic resources).
public struct ClaimedDevice: Sendable, Hashable {
    public var container: String
    public var claim: String
    public var claimNamespace: String
    public var driver: String
    public var pool: String
    public var device: String
}

/// One pod's devices as PodResources reports them.
public struct PodResourcesAnswer: Sendable, Hashable {
    public var devices: [ContainerDeviceSet] = []
    public var claimed: [ClaimedDevice] = []
    /// `Get` was not served (a kubelet before 1.27 or without the PodResourcesGet gate): the answer came from `List`.
    public var usedList = false
}

/// Why the kubelet could not be asked.
public enum KubeletError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreachable(String)
    case failed(String)

    public var description: String {
        switch self {
        case .unreachable(let why): "kubelet PodResources unreachable: \(why)"
        case .failed(let why): "kubelet PodResources failed: \(why)"
        }
    }
}
