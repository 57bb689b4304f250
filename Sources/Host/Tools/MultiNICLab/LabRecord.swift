import Foundation

/// Everything a lab created, written as it is created (`<state>/<name>/lab.json`) so `lab down` can remove it all,
/// also after a crash half-way through `lab up`.
public struct LabRecord: Codable, Sendable, Hashable {
    public struct NIC: Codable, Sendable, Hashable {
        public var name: String
        public var address: String
        public var bridge: String
        /// The fabric-side end of the NIC's cable (`lab break` unplugs it).
        public var fabricPort: String
    }

    public struct Host: Codable, Sendable, Hashable {
        public var node: String
        public var namespace: String
        public var directory: String
        public var nics: [NIC]
        public var daemonPID: Int32?
        /// GPUs on the host's fake PCIe tree (`lab up --gpus-per-host`); 0: none, and no stand-in kubelet.
        public var gpus: Int?
        /// The stand-in kubelet (PodResources) of a host with GPUs.
        public var kubeletPID: Int32?
        public var socket: String { directory + "/d.sock" }
        public var cniStateDirectory: String { directory + "/cni" }
        /// The fake sysfs and NVIDIA proc trees, the kubelet's socket and the pods' devices it serves.
        public var sysfsRoot: String { directory + "/sys" }
        public var nvidiaRoot: String { directory + "/nvidia" }
        public var kubeletSocket: String { directory + "/kubelet.sock" }
        public var kubeletPods: String { directory + "/kubelet-pods.json" }
    }

    public struct Pod: Codable, Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var host: String
        public var containerID: String
        /// One address per NIC, in NIC order (`net1-0`, `net1-1`, …).
        public var addresses: [String]
        /// The host NIC behind each pod interface, in the same order (nil in records of older labs).
        public var masters: [String]?
        /// The GPU the stand-in kubelet gave the pod (PCI address), on a host with GPUs.
        public var gpu: String?
        /// DRA mode: the pod's ResourceClaim (in `default`).
        public var claim: String?
    }

    public var name: String
    public var directory: String
    public var network: String = ""
    /// The delegate actually used (macvlan when the kernel has no ipvlan).
    public var backend: String = ""
    public var fabric: String
    public var hosts: [Host] = []
    public var pods: [Pod] = []
    /// Every namespace created, in creation order.
    public var namespaces: [String] = []
    /// Unplugged NIC cables: `<node>/<nic>`.
    public var broken: [String] = []
    /// Prometheus in the fabric namespace (`lab up --prometheus`).
    public var prometheusPID: Int32?
    /// DRA mode (`lab up --dra`): the daemons publish ResourceSlices to the lab's API server, pods get claims.
    public var dra: Bool?
    /// The lab's API server in the fabric namespace (DRA mode).
    public var apiServerPID: Int32?
    /// The kubeconfig of the lab's API server, and its unix socket (the lab's own way in).
    public var kubeconfig: String { directory + "/kubeconfig" }
    public var apiSocket: String { directory + "/api.sock" }

    public init(name: String, directory: String) {
        self.name = name
        self.directory = directory
        fabric = LabNames.namespace(lab: name, "fabric")
    }

    static func path(_ directory: String) -> String { directory + "/lab.json" }

    public static func load(directory: String) throws(LabError) -> LabRecord {
        do {
            return try JSONDecoder().decode(LabRecord.self, from: Data(contentsOf: URL(fileURLWithPath: path(directory))))
        } catch {
            throw LabError("no lab recorded in \(directory) (\(error.localizedDescription)); is it up?")
        }
    }

    public func save() throws(LabError) {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try encoder.encode(self).write(to: URL(fileURLWithPath: Self.path(directory)), options: .atomic)
        } catch {
            throw LabError("cannot record the lab in \(directory): \(error.localizedDescription)")
        }
    }
}

/// Names of everything a lab creates: all namespaces start with `mnlab-<lab>-`.
public enum LabNames {
    public static func prefix(lab: String) -> String { "mnlab-\(lab)-" }
    public static func namespace(lab: String, _ part: String) -> String { prefix(lab: lab) + part }
    public static func node(lab: String, host: Int) -> String { "\(lab)-host-\(host)" }
    public static func pod(lab: String, host: Int, index: Int) -> String { "\(lab)-host-\(host)-pod-\(index)" }
}
