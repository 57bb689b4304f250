import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKubeFake
import MultiNICOperator
import MultiNICTestSupport
import Testing

/// deploy/ as a cluster administrator reads it: an install that works in the documented order, versioned images,
/// the least privilege each part needs, and an entrypoint that replaces the CNI binaries atomically.
@Suite(.ownThread) struct DeployHardeningTests {
    static func documents(_ path: String) throws -> [JSONValue] { try DeployManifestTests.documents(path) }

    /// The documents `kubectl apply -k <directory>` sends, read from its kustomization's resources.
    static func kustomization(_ directory: String) throws -> [JSONValue] {
        let kustomization = try #require(try documents(directory + "/kustomization.yaml").first?.objectValue)
        return try (kustomization["resources"]?.arrayValue ?? []).compactMap(\.stringValue).flatMap { try documents(directory + "/" + $0) }
    }

    static func kind(_ document: JSONValue) -> String { document.objectValue?["kind"]?.stringValue ?? "" }

    static func field(_ document: JSONValue?, _ path: String...) -> JSONValue? {
        path.reduce(document) { $0?.objectValue?[$1] }
    }

    @Test func noCustomResourceIsAppliedWithItsOwnCRD() throws {
        let install = try Self.kustomization("deploy")
        let defined = Set(install.filter { Self.kind($0) == "CustomResourceDefinition" }.compactMap {
            Self.field($0, "spec", "names", "kind")?.stringValue
        })
        #expect(defined.count == 6)
        let sameApply = install.map(Self.kind).filter(defined.contains)
        #expect(sameApply.isEmpty, "a fresh cluster rejects \(sameApply) in the apply that creates their CRD")
        let config = try Self.kustomization("deploy/config")
        #expect(config.map(Self.kind) == ["Config"])
    }

    @Test func aConfigTheCRDAcceptsIsAConfigTheOperatorReads() throws {
        let schemas = try DeployManifestTests.kubernetes()
        let minimal: JSONValue = .object(["apiVersion": .string("net.cogadvisor.io/v1"), "kind": .string("Config"),
                                          "metadata": .object(["name": .string("multi-nicd")]),
                                          "spec": .object(["daemon": .object(["image": .string("registry.example/multi-nicd:v1")])])])
        #expect(schemas.problems(minimal) == [], "the CRD requires only daemon.image")
        let decoded = try JSONDecoder().decode(Config.self, from: Data(minimal.description.utf8))
        #expect(decoded.spec == ConfigSpec(daemon: DaemonSpec(image: "registry.example/multi-nicd:v1")), "every other field defaults")
        // What the CRD refuses, the decoder refuses too.
        let noDaemon: JSONValue = .object(["apiVersion": .string("net.cogadvisor.io/v1"), "kind": .string("Config"),
                                           "metadata": .object(["name": .string("x")]), "spec": .object([:])])
        #expect(schemas.problems(noDaemon)?.isEmpty == false)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Config.self, from: Data(noDaemon.description.utf8)) }
        // The shipped default reads back as what it says.
        let shipped = try #require(try Self.documents("deploy/config/config.yaml").first)
        #expect(schemas.problems(shipped) == [])
        #expect(try JSONDecoder().decode(Config.self, from: Data(shipped.description.utf8)).spec.daemon.image == MultiNICRelease.daemonImage)
    }

    @Test func everyImageIsThisReleasesTagNeverLatest() throws {
        var images: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let object):
                for (key, child) in object {
                    if key == "image" || (key == "value" && object["name"] == .string("CONCHECK_IMAGE")), let text = child.stringValue { images.append(text) }
                    collect(child)
                }
            case .array(let items): items.forEach(collect)
            default: break
            }
        }
        for file in DeployManifestTests.yamlFiles(under: "deploy") + ["connection-check/concheck.yaml"] {
            try Self.documents(file).forEach(collect)
        }
        #expect(images.count >= 4, "\(images)")
        for image in images {
            #expect(image.hasSuffix(":" + MultiNICRelease.imageTag), "\(image): this release's tag, never latest or none")
        }
        #expect(DaemonSpec().image == MultiNICRelease.daemonImage)
        let kustomization = try #require(try Self.documents("deploy/kustomization.yaml").first)
        #expect(Self.field(kustomization, "images")?.arrayValue?.first?.objectValue?["newTag"] == .string(MultiNICRelease.imageTag))
        let makefile = try String(contentsOf: DeployManifestTests.root.appendingPathComponent("Makefile"), encoding: .utf8)
        #expect(makefile.contains("VERSION ?= \(MultiNICRelease.imageTag)") && !makefile.contains(":latest"))
        #expect(!makefile.contains("multi-nicd-token"), "no Secret only make creates: the daemons use TokenReview")
    }

    @Test func theNamespaceAdmitsTheDaemonAndOnlyItsOwnNamespace() throws {
        let namespace = try #require(try Self.documents("deploy/namespace.yaml").first)
        #expect(Self.field(namespace, "metadata", "labels", "pod-security.kubernetes.io/enforce") == .string("privileged"))
    }

    @Test func theOperatorRollsOutAndRunsWithoutPrivilege() throws {
        let install = try Self.kustomization("deploy")
        let deployment = try #require(install.first { Self.kind($0) == "Deployment" })
        #expect(Self.field(deployment, "spec", "strategy", "rollingUpdate") == .object(["maxSurge": .integer(1), "maxUnavailable": .integer(0)]))
        let pod = Self.field(deployment, "spec", "template", "spec")
        #expect(Self.field(pod, "securityContext", "runAsNonRoot") == .bool(true))
        let container = try #require(Self.field(pod, "containers")?.arrayValue?.first)
        #expect(Self.field(container, "securityContext", "readOnlyRootFilesystem") == .bool(true))
        #expect(Self.field(container, "securityContext", "allowPrivilegeEscalation") == .bool(false))
        #expect(Self.field(container, "securityContext", "capabilities", "drop") == .array([.string("ALL")]))
        #expect(Self.field(container, "livenessProbe") != nil && Self.field(container, "readinessProbe") != nil)
        #expect(Self.field(container, "resources", "requests") != nil && Self.field(container, "resources", "limits") != nil)
        let budget = try #require(install.first { Self.kind($0) == "PodDisruptionBudget" })
        #expect(Self.field(budget, "spec", "selector", "matchLabels") == Self.field(deployment, "spec", "selector", "matchLabels"))
        #expect(Self.field(budget, "spec", "minAvailable") == .integer(1))
    }

    /// NET_ADMIN, plus SYS_ADMIN for native attach (setns into pod namespaces; the default) and nothing else.
    @Test func theDaemonSetHasNetAdminAndSysAdminOnlyAndMountsOnlyWhatItUses() throws {
        let config = try JSONDecoder().decode(Config.self, from: Data(try #require(try Self.documents("deploy/config/config.yaml").first).description.utf8))
        for source in [config, Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec())] {
            let daemonSet = DaemonSetRenderer.render(source, namespace: "multi-nic-cni-operator")
            let pod = try #require(Self.field(daemonSet, "spec", "template", "spec"))
            #expect(Self.field(pod, "hostPID") == nil, "the daemon enters no other process's namespaces")
            #expect(Self.field(pod, "priorityClassName") == .string("system-node-critical"))
            #expect(Self.field(pod, "tolerations") == .array([.object(["operator": .string("Exists")])]), "every taint")
            let container = try #require(Self.field(pod, "containers")?.arrayValue?.first)
            let security = Self.field(container, "securityContext")
            #expect(Self.field(security, "privileged") == .bool(false) || Self.field(security, "privileged") == nil)
            #expect(Self.field(security, "capabilities", "add") == .array([.string("NET_ADMIN"), .string("SYS_ADMIN")]))
            #expect(Self.field(security, "capabilities", "drop") == .array([.string("ALL")]))
            #expect(Self.field(container, "livenessProbe") != nil && Self.field(container, "readinessProbe") != nil)
            let hostPaths = (Self.field(pod, "volumes")?.arrayValue ?? []).compactMap { Self.field($0, "hostPath", "path")?.stringValue }
            let allowed: Set<String> = ["/opt/cni/bin", "/etc/cni/net.d", "/run/multinic", "/var/lib/multinic",
                                        "/var/lib/kubelet/device-plugins", "/var/lib/kubelet/pod-resources", "/var/run/netns"]
            #expect(Set(hostPaths).isSubset(of: allowed), "host mounts beyond CNI bin/conf, kubelet sockets and state: \(hostPaths)")
            let rollout = Self.field(daemonSet, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable")
            #expect(rollout == .string("10%"))
        }
        #expect(try JSONDecoder().decode(Config.self, from: Data(try #require(try Self.documents("deploy/config/config.yaml").first).description.utf8))
            .spec.daemon.resources != nil)
    }

    @Test func theConnectionCheckCleansUpAndCreatesPodsOnlyInItsNamespace() throws {
        let documents = try Self.documents("connection-check/concheck.yaml")
        let job = try #require(documents.first { Self.kind($0) == "Job" })
        #expect(Self.field(job, "spec", "ttlSecondsAfterFinished") != nil)
        let pod = Self.field(job, "spec", "template", "spec")
        #expect(Self.field(pod, "securityContext", "runAsNonRoot") == .bool(true))
        let container = try #require(Self.field(pod, "containers")?.arrayValue?.first)
        #expect(Self.field(container, "securityContext", "allowPrivilegeEscalation") == .bool(false))
        for role in documents where Self.kind(role) == "ClusterRole" {
            let resources = (Self.field(role, "rules")?.arrayValue ?? []).flatMap { Self.field($0, "resources")?.arrayValue ?? [] }
            #expect(!resources.contains(.string("pods")), "pods only through a Role in the Job's namespace")
        }
        let role = try #require(documents.first { Self.kind($0) == "Role" })
        #expect(Self.field(role, "metadata", "namespace") == Self.field(job, "metadata", "namespace"))
        // The check's own pods meet the "restricted" Pod Security level.
        let checkPod = ConcheckPods.server(network: "net", host: "n1", nics: 2, namespace: "default", image: "x:1")
        #expect(Self.field(checkPod, "spec", "securityContext", "runAsNonRoot") == .bool(true))
    }

    /// The daemon image's entrypoint against a temporary "host": binaries installed executable, an old binary replaced
    /// by rename (a process holding the old file keeps reading the old bytes), no temporary file left, and the
    /// DaemonSet's arguments passed on to multi-nicd.
    @Test func theEntrypointInstallsTheCNIBinariesAtomically() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-entrypoint-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let home = root + "/opt/multinic", bin = root + "/host/opt/cni/bin"
        for directory in [home + "/cni", home + "/plugins.d", bin] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        for binary in ["multi-nic", "multi-nic-ipam"] { try "new \(binary)\n".write(toFile: home + "/cni/" + binary, atomically: true, encoding: .utf8) }
        try "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\n".write(toFile: home + "/multi-nicd", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: home + "/multi-nicd")
        try "old multi-nic\n".write(toFile: bin + "/multi-nic", atomically: true, encoding: .utf8)
        let old = try #require(FileHandle(forReadingAtPath: bin + "/multi-nic"))
        defer { try? old.close() }

        let script = DeployManifestTests.root.appendingPathComponent("deploy/docker/daemon-entrypoint.sh").path
        let (status, output) = try CapturedRun.run(URL(fileURLWithPath: "/usr/bin/env"),
                                                   ["MULTINIC_HOME=" + home, "HOST_CNI_BIN_DIR=" + bin, "/bin/sh", script, "--port", "11000"])
        #expect(status == 0, "\(output)")
        for binary in ["multi-nic", "multi-nic-ipam"] {
            #expect(try String(contentsOfFile: bin + "/" + binary, encoding: .utf8) == "new \(binary)\n")
            let mode = try FileManager.default.attributesOfItem(atPath: bin + "/" + binary)[.posixPermissions] as? Int
            #expect(mode == 0o755, "\(binary) is executable")
        }
        #expect(String(decoding: old.readDataToEndOfFile(), as: UTF8.self) == "old multi-nic\n", "replaced by rename, not rewritten in place")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bin).sorted() == ["multi-nic", "multi-nic-ipam"], "no temporary file left")
        #expect(try String(contentsOfFile: home + "/args", encoding: .utf8) == "--plugins-dir \(home)/plugins.d --port 11000\n")
    }
}
