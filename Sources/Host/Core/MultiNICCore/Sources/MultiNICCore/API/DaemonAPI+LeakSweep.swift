/// The controller's leak sweep: it reads which pods hold leases on a node, checks them against the pods the API
/// server knows, and asks the node's daemon to release the leases of pods that are gone.
extension DaemonAPI {
    /// Read-only: `GET` → ``PodLeaseSnapshot``.
    public static let podLeasesPath = "/podleases"
    /// `POST` ``PodReleaseRequest`` → the released `[IPAllocation]`.
    public static let releasePodsPath = "/releasepods"
    /// A release must follow its snapshot within this many seconds, or the daemon refuses it.
    public static let sweepWindowSeconds = 120.0
}

/// The pods that hold leases on a node, as the daemon saw them at `takenAt`.
public struct PodLeaseSnapshot: Codable, Sendable, Hashable {
    /// The daemon's monotonic clock (seconds) when the snapshot was taken.
    public var takenAt: Double
    public var pods: [PodLeases]

    public init(takenAt: Double, pods: [PodLeases]) {
        self.takenAt = takenAt
        self.pods = pods
    }
}

/// One pod's leases on the node.
public struct PodLeases: Codable, Sendable, Hashable {
    public var namespace: String
    public var name: String
    /// Kubernetes UID from CNI_ARGS (`K8S_POD_UID`); empty when the runtime did not pass one (never swept).
    public var uid: String
    public var addresses: [String]
    /// Some of these leases are keyed by pod (adopted from the original Multi-NIC CNI, which knew no UID): the
    /// sweep may release those by name (``PodReleaseRequest/podNames``). Absent from older daemons.
    public var podKeyed: Bool?

    public init(namespace: String, name: String, uid: String, addresses: [String], podKeyed: Bool? = nil) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.addresses = addresses
        self.podKeyed = podKeyed
    }
}

/// Release every lease of these pods, which the controller found gone after the snapshot taken at `snapshotTakenAt`.
public struct PodReleaseRequest: Codable, Sendable, Hashable {
    public var snapshotTakenAt: Double
    public var podUIDs: [String]
    /// `namespace/name` of pods without a UID found gone by name (no pod of that name exists): only their pod-keyed
    /// leases — adopted from the original Multi-NIC CNI — are released. Absent from older controllers.
    public var podNames: [String]?

    public init(snapshotTakenAt: Double, podUIDs: [String], podNames: [String]? = nil) {
        self.snapshotTakenAt = snapshotTakenAt
        self.podUIDs = podUIDs
        self.podNames = podNames
    }
}
