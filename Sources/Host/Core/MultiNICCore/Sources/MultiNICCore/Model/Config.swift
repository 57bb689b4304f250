/// The cluster-wide description of the daemon and the controller's timings. One object, `multi-nicd`.
public typealias Config = Resource<ConfigSpec>

/// `Config.spec`.
public struct ConfigSpec: ResourceSpec {
    public static let kind = "Config"
    public static let plural = "configs"

    /// The name of the default Config object.
    public static let defaultName = "multi-nicd"

    /// `type` written at the top of generated NADs.
    public var cniType: String
    public var ipamType: String
    public var daemon: DaemonSpec
    public var joinPath: String
    public var getInterfacePath: String
    public var addRoutePath: String?
    public var deleteRoutePath: String?
    public var urgentReconcileSeconds: Int?
    public var normalReconcileMinutes: Int?
    public var longReconcileMinutes: Int?
    public var contextTimeoutMinutes: Int?
    public var logLevel: Int?

    public init(cniType: String = "multi-nic", ipamType: String = "multi-nic-ipam",
                daemon: DaemonSpec = DaemonSpec(), joinPath: String = "/join", getInterfacePath: String = "/interface",
                addRoutePath: String? = "/addl3", deleteRoutePath: String? = "/deletel3",
                urgentReconcileSeconds: Int? = 5, normalReconcileMinutes: Int? = 1, longReconcileMinutes: Int? = 10,
                contextTimeoutMinutes: Int? = 2, logLevel: Int? = 4) {
        self.cniType = cniType
        self.ipamType = ipamType
        self.daemon = daemon
        self.joinPath = joinPath
        self.getInterfacePath = getInterfacePath
        self.addRoutePath = addRoutePath
        self.deleteRoutePath = deleteRoutePath
        self.urgentReconcileSeconds = urgentReconcileSeconds
        self.normalReconcileMinutes = normalReconcileMinutes
        self.longReconcileMinutes = longReconcileMinutes
        self.contextTimeoutMinutes = contextTimeoutMinutes
        self.logLevel = logLevel
    }

    private enum CodingKeys: String, CodingKey {
        case cniType, ipamType, daemon, joinPath, getInterfacePath, addRoutePath, deleteRoutePath, urgentReconcileSeconds
        case normalReconcileMinutes, longReconcileMinutes, contextTimeoutMinutes, logLevel
    }

    /// Only `daemon` is required (as the CRD says); every other field missing takes the memberwise default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ConfigSpec()
        cniType = try container.decodeIfPresent(String.self, forKey: .cniType) ?? defaults.cniType
        ipamType = try container.decodeIfPresent(String.self, forKey: .ipamType) ?? defaults.ipamType
        daemon = try container.decode(DaemonSpec.self, forKey: .daemon)
        joinPath = try container.decodeIfPresent(String.self, forKey: .joinPath) ?? defaults.joinPath
        getInterfacePath = try container.decodeIfPresent(String.self, forKey: .getInterfacePath) ?? defaults.getInterfacePath
        addRoutePath = try container.decodeIfPresent(String.self, forKey: .addRoutePath) ?? defaults.addRoutePath
        deleteRoutePath = try container.decodeIfPresent(String.self, forKey: .deleteRoutePath) ?? defaults.deleteRoutePath
        urgentReconcileSeconds = try container.decodeIfPresent(Int.self, forKey: .urgentReconcileSeconds) ?? defaults.urgentReconcileSeconds
        normalReconcileMinutes = try container.decodeIfPresent(Int.self, forKey: .normalReconcileMinutes) ?? defaults.normalReconcileMinutes
        longReconcileMinutes = try container.decodeIfPresent(Int.self, forKey: .longReconcileMinutes) ?? defaults.longReconcileMinutes
        contextTimeoutMinutes = try container.decodeIfPresent(Int.self, forKey: .contextTimeoutMinutes) ?? defaults.contextTimeoutMinutes
        logLevel = try container.decodeIfPresent(Int.self, forKey: .logLevel) ?? defaults.logLevel
    }
}

/// `Config.spec.daemon`: what goes into the daemon DaemonSet. Kubernetes-shaped parts (tolerations,
/// resources, securityContext, envFrom) are carried as JSON.
public struct DaemonSpec: Codable, Sendable, Hashable {
    public var image: String
    public var port: Int
    public var imagePullPolicy: String?
    public var imagePullSecretName: String?
    public var env: [EnvVar]?
    public var envFrom: JSONValue?
    public var nodeSelector: [String: String]?
    public var tolerations: JSONValue?
    public var resources: JSONValue?
    public var securityContext: JSONValue?
    public var mounts: [HostMount]?
    /// Native attach (the daemon configures macvlan/ipvlan pod interfaces itself): on unless `false`. On, the
    /// DaemonSet mounts the runtime's `/var/run/netns` (HostToContainer propagation, so namespaces made after the
    /// daemon started are visible) and its default security context adds SYS_ADMIN (for `setns`); off, the daemon
    /// runs `--no-native-attach` with NET_ADMIN only and every NIC gets its delegate plugin.
    public var nativeAttach: Bool?
    /// Persistent addresses through IPAMClaim (`--ipam-claims`): the daemon reads each attaching pod's networks
    /// annotation for an `ipam-claim-reference`. Off unless `true` (one API read per pod ADD).
    public var ipamClaims: Bool?
    /// DRA mode: multi-nicd publishes the node's NICs as ResourceSlices of this driver (`--dra-driver`), e.g.
    /// ``DRANames/defaultDriver``; nil: not published.
    public var draDriver: String?

    public init(image: String = MultiNICRelease.daemonImage, port: Int = DaemonSpec.defaultPort, imagePullPolicy: String? = nil,
                imagePullSecretName: String? = nil, env: [EnvVar]? = nil, envFrom: JSONValue? = nil,
                nodeSelector: [String: String]? = nil, tolerations: JSONValue? = nil, resources: JSONValue? = nil,
                securityContext: JSONValue? = nil, mounts: [HostMount]? = nil, nativeAttach: Bool? = nil, ipamClaims: Bool? = nil,
                draDriver: String? = nil) {
        self.image = image
        self.port = port
        self.imagePullPolicy = imagePullPolicy
        self.imagePullSecretName = imagePullSecretName
        self.env = env
        self.envFrom = envFrom
        self.nodeSelector = nodeSelector
        self.tolerations = tolerations
        self.resources = resources
        self.securityContext = securityContext
        self.mounts = mounts
        self.nativeAttach = nativeAttach
        self.ipamClaims = ipamClaims
        self.draDriver = draDriver
    }

    /// The daemon's TCP port when the Config does not say.
    public static let defaultPort = 11000

    private enum CodingKeys: String, CodingKey {
        case image, port, imagePullPolicy, imagePullSecretName, env, envFrom, nodeSelector, tolerations, resources
        case securityContext, mounts, nativeAttach, ipamClaims, draDriver
    }

    /// Only `image` is required (as the CRD says); `port` defaults to ``defaultPort``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        image = try container.decode(String.self, forKey: .image)
        port = try container.decodeIfPresent(Int.self, forKey: .port) ?? Self.defaultPort
        imagePullPolicy = try container.decodeIfPresent(String.self, forKey: .imagePullPolicy)
        imagePullSecretName = try container.decodeIfPresent(String.self, forKey: .imagePullSecretName)
        env = try container.decodeIfPresent([EnvVar].self, forKey: .env)
        envFrom = try container.decodeIfPresent(JSONValue.self, forKey: .envFrom)
        nodeSelector = try container.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        tolerations = try container.decodeIfPresent(JSONValue.self, forKey: .tolerations)
        resources = try container.decodeIfPresent(JSONValue.self, forKey: .resources)
        securityContext = try container.decodeIfPresent(JSONValue.self, forKey: .securityContext)
        mounts = try container.decodeIfPresent([HostMount].self, forKey: .mounts)
        nativeAttach = try container.decodeIfPresent(Bool.self, forKey: .nativeAttach)
        ipamClaims = try container.decodeIfPresent(Bool.self, forKey: .ipamClaims)
        draDriver = try container.decodeIfPresent(String.self, forKey: .draDriver)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(image, forKey: .image)
        try container.encode(port, forKey: .port)
        try container.encodeIfPresent(imagePullPolicy, forKey: .imagePullPolicy)
        try container.encodeIfPresent(imagePullSecretName, forKey: .imagePullSecretName)
        try container.encodeIfPresent(env, forKey: .env)
        try container.encodeIfPresent(envFrom, forKey: .envFrom)
        try container.encodeSortedIfPresent(nodeSelector, forKey: .nodeSelector)
        try container.encodeIfPresent(tolerations, forKey: .tolerations)
        try container.encodeIfPresent(resources, forKey: .resources)
        try container.encodeIfPresent(securityContext, forKey: .securityContext)
        try container.encodeIfPresent(mounts, forKey: .mounts)
        try container.encodeIfPresent(nativeAttach, forKey: .nativeAttach)
        try container.encodeIfPresent(ipamClaims, forKey: .ipamClaims)
        try container.encodeIfPresent(draDriver, forKey: .draDriver)
    }
}

/// A container environment variable with a literal value.
public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?

    public init(name: String, value: String? = nil) {
        self.name = name
        self.value = value
    }
}

/// A host path mounted into the daemon container.
public struct HostMount: Codable, Sendable, Hashable {
    public var name: String
    public var podpath: String
    public var hostpath: String

    public init(name: String, podpath: String, hostpath: String) {
        self.name = name
        self.podpath = podpath
        self.hostpath = hostpath
    }
}
