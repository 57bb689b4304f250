import ArgumentParser
import Logging
import MultiNICCloud
import MultiNICCore
import MultiNICDaemon

/// `multi-nicd`: the node daemon. Flags override the environment (K8S_NODENAME, DAEMON_PORT, RT_TABLE_PATH).
@main
struct MultiNICd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multi-nicd", abstract: "MultiNIC node daemon: NIC discovery, node-local IPAM, NIC selection, L3 routes.")

    @Option(help: "This node's name (default: $K8S_NODENAME, else the host name).") var nodeName: String?
    @Option(help: "TCP port for the operator; 0 disables TCP (default: $DAEMON_PORT or 11000).") var port: Int?
    @Option(help: "TCP bind address: the node's own address (the DaemonSet passes status.hostIP).") var bind = "0.0.0.0"
    @Option(help: "Open connections each listener (unix socket, TCP) accepts; more wait in the backlog.") var maxConnections = 256
    @Flag(inversion: .prefixedNo, help: "Configure pod interfaces in this process where the backend can (native attach); off: delegate plugins.")
    var nativeAttach = true
    @Option(help: "Native attaches in progress at once; one more is answered 503 and the CNI retries.") var maxConcurrentAttaches = 8
    @Option(help: "Seconds a connection may go without a complete request head, or idle between requests.") var idleTimeout = 15
    @Option(help: "Seconds a request body may take to arrive.") var bodyTimeout = 10
    @Option(help: "Unix socket for the CNI binary.") var socket = DaemonAPI.nodeSocket
    @Option(help: "File with the one bearer token TCP clients must send (the lab, a standalone daemon).") var tokenFile: String?
    @Option(help: "Authenticate TCP clients by TokenReview: accept this user's service-account tokens issued for the audience multi-nicd:<node> (repeatable).")
    var tokenReviewUser: [String] = []
    @Option(help: "PEM serving certificate: TCP speaks TLS (the multi-nicd-tls Secret's tls.crt).") var tlsCert: String?
    @Option(help: "PEM key of --tls-cert.") var tlsKey: String?
    @Option(help: "State directory (IPAM journal, mirrors).") var stateDir = "/var/lib/multinic"
    @Option(help: "Plugins directory (default: plugins.d next to the executable, then /opt/multinic/plugins.d).")
    var pluginsDir: String?
    @Option(help: "sysfs root.") var sysfsRoot = "/sys"
    @Option(help: "rt_tables file (default: $RT_TABLE_PATH or /etc/iproute2/rt_tables).") var rtTables: String?
    @Option(help: "Virtual link kinds accepted as NICs, comma-separated (e.g. veth,macvlan for the lab).") var virtualKinds = ""
    @Option(help: "Seconds a released address rests before it is handed out again.") var quarantineSeconds = 30.0
    @Option(help: "kubelet device-plugin checkpoint.")
    var kubeletCheckpoint = "/var/lib/kubelet/device-plugins/kubelet_internal_checkpoint"
    @Option(help: "kubelet PodResources socket (which GPUs a pod got, for the topology policy).")
    var podResourcesSocket = "/var/lib/kubelet/pod-resources/kubelet.sock"
    @Option(help: "Resource names whose devices are GPUs, comma-separated.") var gpuResources = "nvidia.com/gpu,amd.com/gpu,habana.ai/gaudi"
    @Option(help: "The NVIDIA driver's proc directory (GPU UUID → PCI address).") var nvidiaRoot = "/proc/driver/nvidia"
    @Option(help: "IPPools of this host to load at start (JSON list).") var poolsFile: String?
    @Option(help: "Unmanaged interfaces appended to discovery (a HostInterface or a JSON list of interfaces).")
    var unmanagedFile: String?
    @Option(help: "Seconds between replays of queued releases (and retries of cloud unassignments, sweeps of deleted IPAMClaims).")
    var releaseReplaySeconds = 30.0
    @Option(help: "The CNI binary's state directory, whose pending-release queue is replayed (default: <state-dir>/cni).")
    var cniStateDir: String?
    @Option(help: "Mirror allocations to: file (<state-dir>/ippools) or kubernetes (IPPool resources via the API).")
    var ippoolMirror = "file"
    @Option(help: "kubeconfig for --ippool-mirror kubernetes (default: the pod's service account).") var kubeconfig: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel = "info"
    @Option(help: "Log format: text or json.") var logFormat = "text"
    @Option(help: "DRA mode: publish this node's NICs as ResourceSlices of this driver (e.g. multinic.cogadvisor.io).")
    var draDriver: String?
    @Option(help: "Seconds between updates of the ResourceSlices (DRA mode).") var draPublishSeconds = 10.0
    @Option(help: "The kubelet's plugin registration directory (DRA mode).") var kubeletRegistryDir = "/var/lib/kubelet/plugins_registry"
    @Option(help: "The kubelet's plugins directory: the DRA socket goes to <dir>/<driver>/dra.sock.") var kubeletPluginsDir = "/var/lib/kubelet/plugins"
    @Flag(help: "Persistent addresses: read each pod's ipam-claim-reference through the API and keep a claim's addresses across its pods (IPAMClaim).")
    var ipamClaims = false
    @Option(help: "EC2 endpoint for aws-ipvlan pools (default: https://ec2.<region>.amazonaws.com).") var ec2Endpoint: String?
    @Option(help: "AWS region (default: $AWS_REGION, else the instance metadata service's).") var ec2Region: String?
    @Option(help: "The instance metadata service (IMDSv2): credentials of the instance role, the region.")
    var imdsEndpoint = "http://169.254.169.254"

    func run() async throws {
        let environment = ProcessEnvironment.values
        var configuration = DaemonConfiguration()
        if let nodeName { configuration.nodeName = nodeName }
        configuration.port = port ?? environment["DAEMON_PORT"].flatMap(Int.init) ?? 11000
        configuration.bindAddress = bind
        guard (1...65536).contains(maxConnections), (1...3600).contains(idleTimeout), (1...3600).contains(bodyTimeout) else {
            throw ValidationError("--max-connections must be 1…65536, --idle-timeout and --body-timeout 1…3600 seconds")
        }
        configuration.maxConnections = maxConnections
        guard (1...1024).contains(maxConcurrentAttaches) else {
            throw ValidationError("--max-concurrent-attaches must be within 1...1024")
        }
        configuration.nativeAttach = nativeAttach
        configuration.maxConcurrentAttaches = maxConcurrentAttaches
        configuration.pauseNativeAttachAfterLinks = environment["MULTINIC_TEST_PAUSE_NATIVE_ATTACH_AFTER"].flatMap(Int.init)
        configuration.idleTimeoutSeconds = idleTimeout
        configuration.bodyTimeoutSeconds = bodyTimeout
        configuration.socketPath = socket
        configuration.tokenFile = tokenFile
        guard tokenFile == nil || tokenReviewUser.isEmpty else { throw ValidationError("--token-file and --token-review-user exclude each other") }
        configuration.tokenReviewUsers = tokenReviewUser
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        configuration.tlsCertificateFile = tlsCert
        configuration.tlsKeyFile = tlsKey
        configuration.stateDirectory = stateDir
        configuration.pluginsDirectory = pluginsDir
        configuration.sysfsRoot = sysfsRoot
        configuration.rtTablesPath = rtTables ?? environment["RT_TABLE_PATH"] ?? "/etc/iproute2/rt_tables"
        configuration.virtualKinds = Set(virtualKinds.split(separator: ",").map(String.init))
        configuration.quarantineSeconds = quarantineSeconds
        configuration.kubeletCheckpointPath = kubeletCheckpoint
        configuration.podResourcesSocket = podResourcesSocket
        configuration.gpuResources = gpuResources.split(separator: ",").map { $0.trimmedWhitespace }.filter { !$0.isEmpty }
        configuration.nvidiaRoot = nvidiaRoot
        configuration.poolsFile = poolsFile
        configuration.unmanagedFile = unmanagedFile
        configuration.cniStateDirectory = cniStateDir ?? stateDir + "/cni"
        guard ["file", "kubernetes"].contains(ippoolMirror) else {
            throw ValidationError("--ippool-mirror must be file or kubernetes, not \(ippoolMirror)")
        }
        configuration.ippoolMirror = ippoolMirror
        configuration.kubeconfig = kubeconfig
        for (flag, value) in [("--ec2-endpoint", ec2Endpoint), ("--imds-endpoint", imdsEndpoint)] {
            guard let value else { continue }
            guard value.hasPrefix("http://") || value.hasPrefix("https://") else { throw ValidationError("\(flag) must be an http(s) URL") }
        }
        configuration.ipamClaims = ipamClaims
        if let draDriver {
            guard NameRules.subdomainProblem(draDriver) == nil, draDriver.contains(".") else {
                throw ValidationError("--dra-driver must be a DNS subdomain with a domain (multinic.cogadvisor.io)")
            }
        }
        guard draPublishSeconds >= 0.1, draPublishSeconds <= 3600 else { throw ValidationError("--dra-publish-seconds must be within 0.1...3600") }
        configuration.draDriver = draDriver
        configuration.draPublishSeconds = draPublishSeconds
        configuration.kubeletRegistryDirectory = kubeletRegistryDir
        configuration.kubeletPluginsDirectory = kubeletPluginsDir
        guard releaseReplaySeconds >= 0.1, releaseReplaySeconds <= 3600 else { throw ValidationError("--release-replay-seconds must be within 0.1...3600") }
        configuration.releaseReplaySeconds = releaseReplaySeconds
        configuration.aws = AWSSettings(ec2Endpoint: ec2Endpoint, region: ec2Region)
        configuration.aws.imdsEndpoint = imdsEndpoint
        let logger = DaemonLogging.logger(level: logLevel, json: logFormat == "json")
        try await DaemonServer.run(configuration, logger: logger)
    }
}
