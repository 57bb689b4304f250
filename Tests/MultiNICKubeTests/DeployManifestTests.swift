import Foundation
import MultiNICCLI
import MultiNICController
import MultiNICCore
import MultiNICKubeFake
import MultiNICTestSupport
import Testing
import Yams

/// deploy/: every YAML parses, every CRD schema is structural and accepts the examples (the seed's network.yaml
/// among them), `kubectl kustomize deploy` renders, and the operator's ClusterRole covers every call it makes.
@Suite(.ownThread) struct DeployManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every document of a YAML file, as JSON.
    static func documents(_ path: String) throws -> [JSONValue] {
        let text = try String(contentsOfFile: root.appendingPathComponent(path).path, encoding: .utf8)
        return try Yams.load_all(yaml: text).map { json($0) }.filter { $0 != .null }
    }

    static func json(_ value: Any) -> JSONValue {
        switch value {
        case let map as [String: Any]: return .object(map.mapValues(json))
        case let list as [Any]: return .array(list.map(json))
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .integer(Int64(number))
        case let number as Double: return .double(number)
        case let text as String: return .string(text)
        default: return .null
        }
    }

    static func yamlFiles(under directory: String) -> [String] {
        let base = root.appendingPathComponent(directory).path
        return (FileManager.default.enumerator(atPath: base)?.compactMap { $0 as? String } ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.map { directory + "/" + $0 }.sorted()
    }

    @Test func everyManifestParsesAndNamesItsKind() throws {
        // deploy/monitoring's rule files are Prometheus's, not Kubernetes objects (MonitoringTests checks them).
        let files = (Self.yamlFiles(under: "deploy") + Self.yamlFiles(under: "connection-check")).filter { !$0.contains("/alerts") }
        #expect(files.count >= 13)
        for file in files {
            for document in try Self.documents(file) {
                #expect(document.objectValue?["kind"]?.stringValue != nil, "\(file): a document without kind")
            }
        }
    }

    /// The Kubernetes v1.32 schemas and deploy/'s CRDs.
    static func kubernetes() throws -> KubernetesSchemas { try #require(KubernetesSchemas.bundled) }

    /// The CRD schemas by kind.
    static func schemas() throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for file in yamlFiles(under: "deploy/crd") {
            for crd in try documents(file) {
                let spec = crd.objectValue?["spec"]?.objectValue
                let kind = spec?["names"]?.objectValue?["kind"]?.stringValue ?? ""
                let version = spec?["versions"]?.arrayValue?.first?.objectValue
                result[kind] = version?["schema"]?.objectValue?["openAPIV3Schema"]
                #expect(version?["subresources"]?.objectValue?["status"] != nil, "\(kind): status subresource")
            }
        }
        return result
    }

    @Test func everyCRDSchemaIsStructural() throws {
        let schemas = try Self.schemas()
        #expect(Set(schemas.keys) == ["MultiNicNetwork", "HostInterface", "CIDR", "IPPool", "DeviceClass", "Config"])
        for (kind, schema) in schemas {
            #expect(SchemaCheck.structuralProblems(schema, at: kind).isEmpty, "\(SchemaCheck.structuralProblems(schema, at: kind))")
        }
        // The checker itself: a property without a type is not structural.
        #expect(!SchemaCheck.structuralProblems(.object(["type": .string("object"), "properties": .object(["a": .object([:])])]),
                                                at: "x").isEmpty)
    }

    @Test func theExamplesAreValidAgainstTheCRDs() throws {
        let schemas = try Self.schemas()
        var checked = 0
        for file in ["examples/network.yaml", "examples/network-ipv6.yaml", "examples/hosts.yaml", "deploy/config/config.yaml",
                     "Tests/MultiNICPluginTests/Fixtures/networks.yaml"] {
            for document in try Self.documents(file) {
                guard let kind = document.objectValue?["kind"]?.stringValue, schemas[kind] != nil else { continue }
                let problems = try #require(try Self.kubernetes().problems(document))
                #expect(problems.isEmpty, "\(file): \(problems)")
                checked += 1
            }
        }
        #expect(checked >= 8)
        let broken = try JSONValue.parse(#"{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"x"},"spec":{"subnet":5,"plugin":{"type":"ipvlan"},"ipam":"{}","extra":true}}"#)
        let problems = try #require(try Self.kubernetes().problems(broken))
        #expect(problems.contains { $0.contains("spec.subnet") } && problems.contains { $0.contains("spec.extra") }, "\(problems)")
    }

    /// The status the network reconciler writes (conditions included) is valid against the CRD's status schema.
    @Test func theWrittenStatusWithConditionsIsValidAgainstTheCRD() throws {
        let schemas = try Self.kubernetes()
        let conditions = Condition.merge(NetworkConditions.compute(failure: nil, routeStatus: .failed, routeMessage: "node-1: down",
                                                                   generation: 2), previous: nil, now: "2026-12-01T10:00:00Z")
        let status = MultiNicNetworkStatus(configStatus: .success, routeStatus: .failed, message: "m",
                                           lastSyncTime: "2026-12-01T10:00:00Z", conditions: conditions)
        var network = MultiNicNetwork(metadata: ObjectMeta(name: "x"), spec: MultiNicNetworkSpec(
            subnet: "", ipam: "{}", plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan")))
        network.status = status
        let problems = schemas.problems(try JSONValue.reencode(network))
        #expect(problems == [], "\(String(describing: problems))")
        var broken = try #require(try JSONValue.reencode(network).objectValue)
        broken["status"] = try JSONValue.parse(#"{"conditions":[{"type":"Ready","status":"yes","reason":"R","lastTransitionTime":"t"}]}"#)
        #expect(schemas.problems(.object(broken))?.isEmpty == false, "the enum is checked")
    }

    /// The admission policy that keeps a daemon to its own node's IPPools names the daemon's real service account, and
    /// pins every IPPool spec field but `allocations` (a field added to the CRD and not to the policy fails here).
    @Test func theDaemonIPPoolPolicyMatchesTheDaemonAccountAndEveryPoolField() throws {
        let documents = try Self.documents("deploy/rbac/daemon-ippool-policy.yaml")
        let policy = try #require(documents.first { $0.objectValue?["kind"] == .string("ValidatingAdmissionPolicy") }?.objectValue?["spec"]?.objectValue)
        let binding = try #require(documents.first { $0.objectValue?["kind"] == .string("ValidatingAdmissionPolicyBinding") }?.objectValue?["spec"]?.objectValue)
        #expect(binding["validationActions"] == .array([.string("Deny")]) && policy["failurePolicy"] == .string("Fail"))
        let subject = try #require(try Self.documents("deploy/rbac/daemon-role.yaml").compactMap {
            $0.objectValue?["subjects"]?.arrayValue?.first?.objectValue }.first)
        let user = "system:serviceaccount:\(subject["namespace"]?.stringValue ?? ""):\(subject["name"]?.stringValue ?? "")"
        let condition = policy["matchConditions"]?.arrayValue?.first?.objectValue?["expression"]?.stringValue ?? ""
        #expect(condition.contains("'\(user)'"), "\(condition) must name \(user)")
        let expressions = (policy["validations"]?.arrayValue ?? []).compactMap { $0.objectValue?["expression"]?.stringValue }.joined(separator: " ")
        let schema = try #require(Self.schemas()["IPPool"]?.objectValue?["properties"]?.objectValue?["spec"]?.objectValue?["properties"]?.objectValue)
        for field in schema.keys where field != "allocations" {
            #expect(expressions.contains("object.spec.\(field)") && expressions.contains("oldObject.spec.\(field)"), "IPPool spec.\(field) is not pinned")
        }
        #expect(!expressions.contains("spec.allocations"), "allocations are the daemon's to change")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/kubectl"), "needs kubectl (CI installs kubernetes-client)"))
    func kustomizeRendersTheWholeInstall() throws {
        let (status, output) = try CapturedRun.run(URL(fileURLWithPath: "/usr/bin/kubectl"), ["kustomize", Self.root.appendingPathComponent("deploy").path])
        #expect(status == 0, "\(output)")
        let kinds = output.split(separator: "\n").filter { $0.hasPrefix("kind: ") }.map { String($0.dropFirst(6)) }
        #expect(kinds.filter { $0 == "CustomResourceDefinition" }.count == 6 && kinds.contains("Deployment") && !kinds.contains("Config"),
                "the Config is applied after its CRD (deploy/config): \(kinds)")
        let (configStatus, config) = try CapturedRun.run(URL(fileURLWithPath: "/usr/bin/kubectl"),
                                                         ["kustomize", Self.root.appendingPathComponent("deploy/config").path])
        #expect(configStatus == 0 && config.contains("kind: Config"), "\(config)")
        #expect(kinds.contains("ValidatingAdmissionPolicy") && kinds.contains("Role") && kinds.contains("RoleBinding"), "\(kinds)")
    }
}

/// The structural-schema rules a CRD's openAPIV3Schema must follow (instances are checked by KubernetesSchemas).
enum SchemaCheck {
    static func structuralProblems(_ schema: JSONValue, at path: String) -> [String] {
        guard let node = schema.objectValue else { return ["\(path): not a schema"] }
        if node["x-kubernetes-preserve-unknown-fields"] == .bool(true) || node["x-kubernetes-int-or-string"] == .bool(true) { return [] }
        guard let type = node["type"]?.stringValue else { return ["\(path): no type"] }
        var problems: [String] = []
        if let properties = node["properties"]?.objectValue {
            if type != "object" { problems.append("\(path): properties on a \(type)") }
            if node["additionalProperties"] != nil { problems.append("\(path): both properties and additionalProperties") }
            for (name, child) in properties where !(path.split(separator: ".").count == 1 && name == "metadata") {
                problems += structuralProblems(child, at: "\(path).\(name)")
            }
        }
        if let items = node["items"] { problems += structuralProblems(items, at: "\(path)[]") }
        if let values = node["additionalProperties"], values.objectValue != nil { problems += structuralProblems(values, at: "\(path){}") }
        if type == "array" && node["items"] == nil { problems.append("\(path): an array without items") }
        return problems
    }
}

/// connection-check/: the Job the seed's README runs.
@Suite(.ownThread) struct ConnectionCheckJobTests {
    /// The Job runs a command multinicctl accepts, with the image it also hands to the check's pods.
    @Test func theConnectionCheckJobRunsAValidCommand() throws {
        let documents = try DeployManifestTests.documents("connection-check/concheck.yaml")
        let job = try #require(documents.first { $0.objectValue?["kind"] == .string("Job") })
        #expect(job.objectValue?["metadata"]?.objectValue?["name"] == .string("multi-nic-concheck"))
        let pod = job.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue
        let container = try #require(pod?["containers"]?.arrayValue?.first?.objectValue)
        let command = container["command"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(command.first == "multinicctl")
        let parsed = try MultinicCtl.parseAsRoot(Array(command.dropFirst()))
        #expect(String(describing: type(of: parsed)) == "ConcheckCommand")
        let image = container["env"]?.arrayValue?.first { $0.objectValue?["name"] == .string("CONCHECK_IMAGE") }?.objectValue?["value"]
        #expect(image == container["image"], "the check's pods use the Job's image")
        #expect(pod?["serviceAccountName"] == .string("multi-nic-concheck-account"))
    }
}
