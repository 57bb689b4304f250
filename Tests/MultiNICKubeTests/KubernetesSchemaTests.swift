import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKubeFake
import MultiNICManifests
import MultiNICOperator
import MultiNICTestSupport
import Testing

/// Every object MultiNIC ships or writes is valid against the Kubernetes v1.32 strict schemas (and deploy/'s CRDs):
/// `kubectl kustomize deploy`, the default Config, the connection-check Job, the DaemonSet the operator renders, the
/// concheck pods and the Events it records. Objects written through the API (Leases, Secrets, statuses) are checked
/// by the in-test API server on every write (`FakeAPIServer` refuses an invalid one with 422).
@Suite(.ownThread) struct KubernetesSchemaTests {
    static let kubectl = "/usr/bin/kubectl"

    static func schemas() throws -> KubernetesSchemas { try #require(KubernetesSchemas.bundled) }

    static func rendered(_ directory: String) throws -> [JSONValue] {
        let (status, output) = try CapturedRun.run(URL(fileURLWithPath: kubectl),
                                                   ["kustomize", KubernetesSchemas.repositoryRoot.appendingPathComponent(directory).path])
        #expect(status == 0, "\(output)")
        return try ManifestLoader.parse(output, file: directory).map(\.json)
    }

    static func expectValid(_ object: JSONValue, _ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let kind = object.objectValue?["kind"]?.stringValue ?? "?"
        let problems = try #require(try schemas().problems(object), "\(source): no schema for \(kind)", sourceLocation: sourceLocation)
        #expect(problems.isEmpty, "\(source) \(kind): \(problems)", sourceLocation: sourceLocation)
    }

    /// The validator refuses what a v1.32 server refuses: each broken copy of a valid DaemonSet names its field.
    @Test func theValidatorRefusesWhatTheServerRefuses() throws {
        let schemas = try Self.schemas()
        let daemonSet = DaemonSetRenderer.render(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec()), namespace: "ops")
        #expect(schemas.problems(daemonSet) == [])
        func broken(_ change: (inout JSONValue) -> Void) -> [String] {
            var copy = daemonSet
            change(&copy)
            return schemas.problems(copy) ?? ["no schema"]
        }
        func container(_ value: inout JSONValue, _ key: String, _ field: JSONValue) {
            guard var object = value.objectValue, var spec = object["spec"]?.objectValue, var template = spec["template"]?.objectValue,
                  var pod = template["spec"]?.objectValue, var containers = pod["containers"]?.arrayValue,
                  var first = containers.first?.objectValue else { return }
            first[key] = field
            containers[0] = .object(first)
            pod["containers"] = .array(containers)
            template["spec"] = .object(pod)
            spec["template"] = .object(template)
            object["spec"] = .object(spec)
            value = .object(object)
        }
        let cases: [(String, (inout JSONValue) -> Void)] = [
            ("imagePullPolcy: unknown field", { container(&$0, "imagePullPolcy", .string("Always")) }),
            ("ports: expected array", { container(&$0, "ports", .object(["containerPort": .integer(80)])) }),
            ("image: expected string", { container(&$0, "image", .integer(5)) }),
            ("terminationMessagePath: expected string", { container(&$0, "terminationMessagePath", .bool(true)) }),
            ("selector: Required value", { value in
                guard var object = value.objectValue, var spec = object["spec"]?.objectValue else { return }
                spec["selector"] = nil
                object["spec"] = .object(spec)
                value = .object(object)
            }),
            ("minReadySeconds: 4294967296 out of int32 range", { value in
                guard var object = value.objectValue, var spec = object["spec"]?.objectValue else { return }
                spec["minReadySeconds"] = .integer(1 << 32)
                object["spec"] = .object(spec)
                value = .object(object)
            }),
        ]
        for (expected, change) in cases {
            let problems = broken(change)
            let field = String(expected.split(separator: ":")[0])
            let message = expected.split(separator: ":").dropFirst().joined(separator: ":").trimmingCharacters(in: .whitespaces)
            #expect(problems.contains { $0.contains(field) && $0.contains(message) }, "\(expected): \(problems)")
        }
        // int-or-string and quantities take both forms; a Secret's data must be base64.
        let secret: JSONValue = .object(["apiVersion": .string("v1"), "kind": .string("Secret"), "metadata": .object(["name": .string("s")]),
                                         "data": .object(["k": .string("not base64!")])])
        #expect(schemas.problems(secret)?.contains { $0.contains("data.k") && $0.contains("base64") } == true)
        // A kind without a schema here is said so (nil), not passed.
        #expect(schemas.problems(.object(["apiVersion": .string("example.com/v1"), "kind": .string("Thing")])) == nil)
        // A custom resource's unknown field is refused (the server would prune it).
        let network = try JSONValue.parse(#"{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"x","lables":{}},"#
            + #""spec":{"subnet":"10.0.0.0/8","ipam":"{}","plugin":{"cniVersion":"1.0.0","type":"macvlan"},"multiNicIpam":true,"extra":1}}"#)
        let problems = schemas.problems(network) ?? []
        #expect(problems.contains { $0.contains("spec.extra") } && problems.contains { $0.contains("metadata.lables") }, "\(problems)")
    }

    /// `kubectl kustomize deploy` (and deploy/config applied after it): every object is valid, and every kind has a schema.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: kubectl), "needs kubectl (CI installs kubernetes-client)"))
    func theKustomizedInstallIsValid() throws {
        let install = try Self.rendered("deploy") + Self.rendered("deploy/config")
        #expect(install.count >= 18)
        for object in install { try Self.expectValid(object, "kubectl kustomize deploy") }
    }

    /// connection-check/ (the Job and its RBAC) and deploy/monitoring's PodMonitor (the Prometheus operator's CRD is not
    /// carried here: its documents are only checked to be the kind the README names).
    @Test func theConnectionCheckJobIsValid() throws {
        let documents = try ManifestLoader.load(path: KubernetesSchemas.repositoryRoot.appendingPathComponent("connection-check/concheck.yaml").path)
        #expect(documents.map(\.json).contains { $0.objectValue?["kind"] == .string("Job") })
        for document in documents { try Self.expectValid(document.json, "connection-check/concheck.yaml") }
        let monitors = try ManifestLoader.load(path: KubernetesSchemas.repositoryRoot.appendingPathComponent("deploy/monitoring/podmonitor.yaml").path)
        #expect(monitors.allSatisfy { $0.json.objectValue?["kind"] == .string("PodMonitor") } && !monitors.isEmpty)
    }

    /// The DaemonSet the operator renders, from the shipped Config, from defaults, and from a Config that sets every
    /// field (pull secret, envFrom, node selector, tolerations, resources, security context, mounts).
    @Test func theRenderedDaemonSetIsValid() throws {
        let shippedPath = KubernetesSchemas.repositoryRoot.appendingPathComponent("deploy/config/config.yaml").path
        let shipped = try #require(try ManifestLoader.load(path: shippedPath).first).decode(Config.self)
        let everything = Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec(daemon: DaemonSpec(
            image: "registry.example/multi-nicd:v2.0.0", port: 11001, imagePullPolicy: "Always", imagePullSecretName: "pull",
            env: [EnvVar(name: "LOG", value: "debug")],
            envFrom: try JSONValue.parse(#"[{"configMapRef":{"name":"extra"}}]"#),
            nodeSelector: ["multinic": "yes"],
            tolerations: try JSONValue.parse(#"[{"key":"gpu","operator":"Exists","effect":"NoSchedule"}]"#),
            resources: try JSONValue.parse(#"{"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":1073741824}}"#),
            mounts: [HostMount(name: "cnibin", podpath: "/host/opt/cni/bin", hostpath: "/opt/cni/bin")])))
        for (name, config) in [("shipped", shipped), ("defaults", Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec())),
                               ("every field", everything)] {
            try Self.expectValid(DaemonSetRenderer.render(config, namespace: "multi-nic-cni-operator"), "DaemonSet from \(name)")
        }
    }

    /// The concheck pods and an Event as the operator writes them.
    @Test func theOperatorsPodsAndEventsAreValid() throws {
        try Self.expectValid(ConcheckPods.server(network: "multi-nic-sample", host: "node-1", nics: 2, namespace: "default",
                                                 image: MultiNICRelease.operatorImage), "concheck server pod")
        try Self.expectValid(ConcheckPods.client(network: "multi-nic-sample", host: "node-2", targets: ["192.168.0.1:5201"],
                                                 seconds: 5, namespace: "default", image: MultiNICRelease.operatorImage),
                             "concheck client pod")
        try Self.expectValid(EventRecorder.event(apiVersion: "net.cogadvisor.io/v1", kind: "MultiNicNetwork", name: "multi-nic-sample",
                                                 uid: "u-1", objectNamespace: nil, namespace: "default", type: .warning,
                                                 reason: "RouteFailed", message: "node-1: down", component: "multi-nic-operator",
                                                 now: Date(timeIntervalSince1970: 1_796_000_000)), "Event")
    }
}
