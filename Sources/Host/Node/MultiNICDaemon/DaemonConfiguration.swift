import Foundation
import MultiNICCloud
import MultiNICCore

/// Everything `multi-nicd` is told at start (flags and environment).
public struct DaemonConfiguration: Sendable, Hashable {
    /// This node's name (`K8S_NODENAME`, else the host name).
    public var nodeName: String
    /// TCP port for the operator (0 disables TCP).
    public var port: Int
    public var bindAddress: String
    /// Unix socket for the CNI binary (root only).
    public var socketPath: String
    /// File holding the one bearer token TCP clients must send (lab, standalone); `nil` with no token-review users:
    /// TCP answers only health and metrics.
    public var tokenFile: String?
    /// Service-account users (`system:serviceaccount:<ns>:<name>`) whose tokens, issued for the audience
    /// `multi-nicd:<node>` and confirmed by TokenReview, may call over TCP (a cluster's daemon).
    public var tokenReviewUsers: [String] = []
    /// PEM serving certificate and key: TCP speaks TLS.
    public var tlsCertificateFile: String?
    public var tlsKeyFile: String?
    /// Where the IPAM journal and mirrors live.
    public var stateDirectory: String
    public var pluginsDirectory: String?
    public var sysfsRoot: String
    public var rtTablesPath: String
    /// Virtual link kinds accepted as NICs (lab and tests).
    public var virtualKinds: Set<String>
    public var quarantineSeconds: Double
    /// kubelet's device-plugin checkpoint (SR-IOV device IDs per pod; GPUs when PodResources is not served).
    public var kubeletCheckpointPath: String
    /// kubelet's PodResources socket: which GPUs a pod got, for the topology policy.
    public var podResourcesSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"
    /// Resource names whose devices count as GPUs.
    public var gpuResources = ["nvidia.com/gpu", "amd.com/gpu", "habana.ai/gaudi"]
    /// The NVIDIA driver's proc directory (GPU UUID → PCI address).
    public var nvidiaRoot = "/proc/driver/nvidia"
    /// How long the kubelet may take to answer (the pod is attached with the topology unknown after that).
    public var podResourcesTimeout: Duration = .seconds(2)
    /// IPPools for this host read at start (the lab's configuration); the operator pushes them otherwise.
    public var poolsFile: String?
    /// A HostInterface (labelled multi-nic-unmanaged, or a JSON list of interfaces) whose entries are appended to
    /// discovery: IP-less NICs or statically planned networks.
    public var unmanagedFile: String?
    /// The CNI binary's state directory: DEL queues releases in `<dir>/pending-release` while the daemon is down.
    public var cniStateDirectory: String
    /// How often the queued releases are replayed after the one at start.
    public var releaseReplaySeconds: Double
    /// Where allocations are mirrored: `file` (`<state>/ippools/<pool>.json`) or `kubernetes` (IPPool resources).
    public var ippoolMirror: String = "file"
    /// kubeconfig for the `kubernetes` mirror; nil: the pod's service account.
    public var kubeconfig: String?
    /// Open connections each listener accepts (the unix socket and TCP are capped separately, so a flood of TCP
    /// connections never starves the CNI binary's socket); more wait in the kernel's backlog.
    public var maxConnections: Int = 256
    /// Seconds a connection may sit without a complete request head (slowloris) or idle between requests.
    public var idleTimeoutSeconds: Int = 15
    /// Seconds a request body may take to arrive.
    public var bodyTimeoutSeconds: Int = 10
    /// Largest request body accepted; larger ones are answered 413.
    public var maxBodyBytes: Int = 16 << 20
    /// Configure pod interfaces in this process (native attach) where the backend can and the CNI passes the pod's
    /// namespace; off, every NIC gets its delegate plugin as before. multi-nicd turns it on (`--native-attach`).
    public var nativeAttach = false
    /// Native attaches in progress at once; one more is answered 503 (the CNI retries).
    public var maxConcurrentAttaches = 8
    /// Crash tests only (`MULTINIC_TEST_PAUSE_NATIVE_ATTACH_AFTER`): a native attach stops for a minute once this many
    /// of its links are configured, so a test can kill the daemon in the middle of an ADD.
    public var pauseNativeAttachAfterLinks: Int?
    /// Read each pod's `ipam-claim-reference` (its networks annotation, through the API: `kubeconfig` or the pod's
    /// service account) and keep claimed addresses across pods (IPAMClaim).
    public var ipamClaims = false
    /// DRA mode: publish this node's NICs as ResourceSlices of this driver (nil: not published).
    public var draDriver: String?
    /// How often the slices are brought up to date (the free addresses change with every pod).
    public var draPublishSeconds: Double = 10
    /// Where the kubelet's plugin watcher looks for registration sockets (DRA mode).
    public var kubeletRegistryDirectory = "/var/lib/kubelet/plugins_registry"
    /// Where the DRA socket goes (`<dir>/<driver>/dra.sock`).
    public var kubeletPluginsDirectory = "/var/lib/kubelet/plugins"
    /// Where EC2 and the instance metadata service are (pools of aws-ipvlan networks).
    public var aws = AWSSettings()

    public init(nodeName: String = ProcessInfo.processInfo.environment["K8S_NODENAME"] ?? ProcessInfo.processInfo.hostName,
                port: Int = 11000, bindAddress: String = "0.0.0.0", socketPath: String = DaemonAPI.nodeSocket,
                tokenFile: String? = nil, stateDirectory: String = "/var/lib/multinic", pluginsDirectory: String? = nil,
                sysfsRoot: String = "/sys", rtTablesPath: String = "/etc/iproute2/rt_tables", virtualKinds: Set<String> = [],
                quarantineSeconds: Double = 30,
                kubeletCheckpointPath: String = "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint",
                poolsFile: String? = nil, unmanagedFile: String? = nil,
                cniStateDirectory: String = PendingReleases.defaultCNIStateDirectory, releaseReplaySeconds: Double = 30) {
        self.nodeName = nodeName
        self.port = port
        self.bindAddress = bindAddress
        self.socketPath = socketPath
        self.tokenFile = tokenFile
        self.stateDirectory = stateDirectory
        self.pluginsDirectory = pluginsDirectory
        self.sysfsRoot = sysfsRoot
        self.rtTablesPath = rtTablesPath
        self.virtualKinds = virtualKinds
        self.quarantineSeconds = quarantineSeconds
        self.kubeletCheckpointPath = kubeletCheckpointPath
        self.poolsFile = poolsFile
        self.unmanagedFile = unmanagedFile
        self.cniStateDirectory = cniStateDirectory
        self.releaseReplaySeconds = releaseReplaySeconds
    }
}
