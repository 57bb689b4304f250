import Foundation

/// One pod's devices as the lab's stand-in kubelet serves them (`multinicctl lab kubelet --pods-file`, a JSON list).
public struct StandInPod: Sendable, Hashable, Codable {
    public var namespace: String
    public var name: String
    public var containers: [Container]

    public init(namespace: String, name: String, containers: [Container]) {
        self.namespace = namespace
        self.name = name
        self.containers = containers
    }

    public struct Container: Sendable, Hashable, Codable {
        public var name: String
        public var devices: [Devices]

        public init(name: String, devices: [Devices]) {
            self.name = name
            self.devices = devices
        }
    }

    public struct Devices: Sendable, Hashable, Codable {
        public var resourceName: String
        public var deviceIDs: [String]
        public var numaNodes: [Int]

        public init(resourceName: String, deviceIDs: [String], numaNodes: [Int] = []) {
            self.resourceName = resourceName
            self.deviceIDs = deviceIDs
            self.numaNodes = numaNodes
        }
    }
}

/// Whether this build carries the kubelet's gRPC APIs (a build with `MULTINIC_WITHOUT_GRPC=1` does not: the main job's
/// quick lab build; the daemon then reads the device plugins' checkpoint only).
public enum KubeletAPIs {
    #if canImport(GRPCCore)
    public static let podResources = true
    #else
    public static let podResources = false
    #endif
}
