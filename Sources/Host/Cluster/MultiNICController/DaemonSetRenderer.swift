import MultiNICCore

/// Config → the multi-nicd DaemonSet (pure): the configured image and port, host networking, NET_ADMIN (not
/// privileged, unless the Config says so) and, for native attach, SYS_ADMIN and the runtime's netns directory (HostToContainer),
/// one host mount per `mounts` entry, TLS from the operator-managed Secret,
/// TokenReview of the operator's service account, node selector, tolerations (every taint by default) and resources.
/// The daemon image's
/// entrypoint installs `multi-nic` and `multi-nic-ipam` into the host's CNI bin dir (mounted at /host/opt/cni/bin).
public enum DaemonSetRenderer {
    public static let labels = ["app": "multi-nicd", "app.kubernetes.io/name": "multi-nicd"]
    /// The operator-managed `kubernetes.io/tls` Secret with the daemons' serving certificate (see DaemonTLSSecrets).
    public static let tlsSecret = "multi-nicd-tls"
    /// Where the DaemonSet mounts it.
    public static let tlsDirectory = "/etc/multi-nicd/tls"

    /// The container's security context when the Config gives none: routes and rules need NET_ADMIN; root without
    /// other capabilities installs the CNI binaries into the host's root-owned bin directory.
    public static let defaultSecurityContext: JSONValue = .object([
        "privileged": .bool(false), "runAsUser": .integer(0), "allowPrivilegeEscalation": .bool(false),
        "readOnlyRootFilesystem": .bool(true),
        "capabilities": .object(["drop": .array([.string("ALL")]), "add": .array([.string("NET_ADMIN")])]),
        "seccompProfile": .object(["type": .string("RuntimeDefault")]),
    ])

    /// The default security context with native attach: SYS_ADMIN too, for `setns` into a pod's network namespace.
    public static let nativeAttachSecurityContext: JSONValue = .object([
        "privileged": .bool(false), "runAsUser": .integer(0), "allowPrivilegeEscalation": .bool(false),
        "readOnlyRootFilesystem": .bool(true),
        "capabilities": .object(["drop": .array([.string("ALL")]), "add": .array([.string("NET_ADMIN"), .string("SYS_ADMIN")])]),
        "seccompProfile": .object(["type": .string("RuntimeDefault")]),
    ])

    /// Where container runtimes (containerd, CRI-O) pin pod network namespaces; mounted with HostToContainer
    /// propagation for native attach.
    public static let netnsDirectory = "/var/run/netns"

    /// Tolerations when the Config gives none: every taint (a node that runs pods needs its daemon).
    public static let defaultTolerations: JSONValue = .array([.object(["operator": .string("Exists")])])

    /// `operatorServiceAccount` is the account whose node-audience tokens the daemons accept.
    public static func render(_ config: Config, namespace: String, operatorServiceAccount: String = "multi-nic-cni-operator") -> JSONValue {
        let daemon = config.spec.daemon
        var env: [JSONValue] = [
            .object(["name": .string("K8S_NODENAME"), "valueFrom": .object(["fieldRef": .object(["fieldPath": .string("spec.nodeName")])])]),
            .object(["name": .string("DAEMON_PORT"), "value": .string(String(daemon.port))]),
            // The TCP listener binds the node's own address only (hostNetwork: not every interface of the host).
            .object(["name": .string("HOST_IP"), "valueFrom": .object(["fieldRef": .object(["fieldPath": .string("status.hostIP")])])]),
        ]
        for variable in daemon.env ?? [] where !["DAEMON_PORT", "K8S_NODENAME", "HOST_IP"].contains(variable.name) {
            env.append(.object(["name": .string(variable.name), "value": .string(variable.value ?? "")]))
        }
        let mounts = daemon.mounts ?? []
        let native = daemon.nativeAttach != false
        var args = ["--port", String(daemon.port), "--bind", "$(HOST_IP)",
                    "--token-review-user", "system:serviceaccount:\(namespace):\(operatorServiceAccount)",
                    "--tls-cert", tlsDirectory + "/tls.crt", "--tls-key", tlsDirectory + "/tls.key",
                    "--socket", DaemonAPI.nodeSocket, "--state-dir", "/var/lib/multinic",
                    "--ippool-mirror", "kubernetes"]
        if !native { args.append("--no-native-attach") }
        if daemon.ipamClaims == true { args.append("--ipam-claims") }
        if let driver = daemon.draDriver { args += ["--dra-driver", driver] }
        var volumeMounts: [JSONValue] = mounts.map { .object(["name": .string($0.name), "mountPath": .string($0.podpath)]) }
            + [.object(["name": .string("tls"), "mountPath": .string(tlsDirectory), "readOnly": .bool(true)]),
               .object(["name": .string("tmp"), "mountPath": .string("/tmp")])]
        if native {
            volumeMounts.append(.object(["name": .string("netns"), "mountPath": .string(netnsDirectory),
                                         "mountPropagation": .string("HostToContainer"), "readOnly": .bool(true)]))
        }
        // DRA mode: the kubelet finds the plugin's registration socket, and dials its DRA socket, on the host.
        let kubeletDirectories = daemon.draDriver == nil ? [] : [("kubelet-plugins-registry", "/var/lib/kubelet/plugins_registry"),
                                                                ("kubelet-plugins", "/var/lib/kubelet/plugins")]
        for (name, path) in kubeletDirectories {
            volumeMounts.append(.object(["name": .string(name), "mountPath": .string(path)]))
        }
        var container: [String: JSONValue] = [
            "name": .string("multi-nicd"),
            "image": .string(daemon.image),
            "args": .array(args.map(JSONValue.string)),
            "env": .array(env),
            "ports": .array([.object(["name": .string("daemon"), "containerPort": .integer(Int64(daemon.port))])]),
            "securityContext": daemon.securityContext ?? (native ? nativeAttachSecurityContext : defaultSecurityContext),
            "volumeMounts": .array(volumeMounts),
            "readinessProbe": .object(["httpGet": .object(["path": .string("/readyz"), "port": .integer(Int64(daemon.port))]),
                                       "periodSeconds": .integer(10)]),
            "livenessProbe": .object(["httpGet": .object(["path": .string("/healthz"), "port": .integer(Int64(daemon.port))]),
                                      "initialDelaySeconds": .integer(10), "periodSeconds": .integer(20)]),
        ]
        if let policy = daemon.imagePullPolicy { container["imagePullPolicy"] = .string(policy) }
        if let resources = daemon.resources { container["resources"] = resources }
        if let envFrom = daemon.envFrom { container["envFrom"] = envFrom }
        var pod: [String: JSONValue] = [
            "serviceAccountName": .string("multi-nicd"),
            "hostNetwork": .bool(true),
            "dnsPolicy": .string("ClusterFirstWithHostNet"),
            "priorityClassName": .string("system-node-critical"),
            "containers": .array([.object(container)]),
            "volumes": .array(mounts.map { mount in
                .object(["name": .string(mount.name), "hostPath": .object(["path": .string(mount.hostpath),
                                                                          "type": .string("DirectoryOrCreate")])])
            } + [.object(["name": .string("tls"), "secret": .object(["secretName": .string(tlsSecret),
                                                                    "defaultMode": .integer(0o400)])]),
                 .object(["name": .string("tmp"), "emptyDir": .object(["medium": .string("Memory"), "sizeLimit": .string("16Mi")])])]
                + (native ? [.object(["name": .string("netns"), "hostPath": .object(["path": .string(netnsDirectory),
                                                                                    "type": .string("DirectoryOrCreate")])])] : [])
                + kubeletDirectories.map { name, path in
                    .object(["name": .string(name), "hostPath": .object(["path": .string(path), "type": .string("DirectoryOrCreate")])])
                }),
        ]
        if let selector = daemon.nodeSelector { pod["nodeSelector"] = .object(selector.mapValues(JSONValue.string)) }
        pod["tolerations"] = daemon.tolerations ?? defaultTolerations
        if let secret = daemon.imagePullSecretName { pod["imagePullSecrets"] = .array([.object(["name": .string(secret)])]) }
        let labelValues = JSONValue.object(labels.mapValues(JSONValue.string))
        var metadata: [String: JSONValue] = ["name": .string(config.metadata.name), "namespace": .string(namespace), "labels": labelValues]
        if let uid = config.metadata.uid {
            metadata["ownerReferences"] = .array([.object([
                "apiVersion": .string(config.apiVersion), "kind": .string(config.kind), "name": .string(config.metadata.name),
                "uid": .string(uid), "controller": .bool(true)])])
        }
        return .object([
            "apiVersion": .string("apps/v1"),
            "kind": .string("DaemonSet"),
            "metadata": .object(metadata),
            "spec": .object([
                "selector": .object(["matchLabels": .object(["app": .string("multi-nicd")])]),
                // A tenth of the nodes at a time: a daemon restarts in seconds, and a 1000-node rollout one by one
                // would take hours.
                "updateStrategy": .object(["type": .string("RollingUpdate"),
                                           "rollingUpdate": .object(["maxUnavailable": .string("10%")])]),
                "template": .object(["metadata": .object(["labels": labelValues]), "spec": .object(pod)]),
            ]),
        ])
    }
}

/// Config → DaemonSet, written through the store (unchanged DaemonSets are not written again).
public struct DaemonSetReconciler: Reconciler {
    /// Whether a DaemonSet object is MultiNIC's: owned by a MultiNIC Config, or carrying the renderer's name label.
    public static func isMultiNICs(_ object: JSONValue) -> Bool {
        let metadata = object.objectValue?["metadata"]?.objectValue ?? [:]
        let owned = (metadata["ownerReferences"]?.arrayValue ?? []).contains {
            $0.objectValue?["apiVersion"]?.stringValue == MultiNICAPI.version && $0.objectValue?["kind"]?.stringValue == ConfigSpec.kind
        }
        let labelled = metadata["labels"]?.objectValue?["app.kubernetes.io/name"]?.stringValue
            == DaemonSetRenderer.labels["app.kubernetes.io/name"]
        return owned || labelled
    }

    let store: any ResourceStore
    let namespace: String
    let operatorServiceAccount: String

    public init(store: any ResourceStore, namespace: String, operatorServiceAccount: String = "multi-nic-cni-operator") {
        self.store = store
        self.namespace = namespace
        self.operatorServiceAccount = operatorServiceAccount
    }

    public func reconcile(_ name: String) async -> ReconcileResult {
        do {
            guard let config = try await store.get(ConfigSpec.self, name: name) else { return .done }
            // A DaemonSet of this name that MultiNIC did not make (the original Multi-NIC CNI's daemon installs into
            // the same namespace by default) is never replaced: that would swap its daemons for ours before a
            // takeover adopted their allocations.
            let reference = ResourceReference(apiVersion: "apps/v1", kind: "DaemonSet", namespace: namespace, name: name)
            if let existing = try await store.getObject(reference), !Self.isMultiNICs(existing) {
                return ReconcileLog.retry("DaemonSet of Config \(name)", StoreError.alreadyExists(
                    ObjectKey(kind: "DaemonSet (not MultiNIC's: the original Multi-NIC CNI's? Install MultiNIC into another namespace)",
                              namespace: namespace, name: name)), after: .seconds(60))
            }
            try await store.applyObject(DaemonSetRenderer.render(config, namespace: namespace, operatorServiceAccount: operatorServiceAccount))
            return .done
        } catch {
            return ReconcileLog.retry("DaemonSet of Config \(name)", error, after: .seconds(5))
        }
    }
}
