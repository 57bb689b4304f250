import Foundation
import MultiNICCore
import MultiNICManifests

/// The schemas a Kubernetes v1.32 API server checks objects against, and a strict validator: the OpenAPI v2
/// definitions of the built-in kinds (extracted from the release-1.32 OpenAPI document into
/// `Tests/Fixtures/KubernetesSchemas/v1.32.json`, see `extract.py` there) and the `openAPIV3Schema` of every CRD added.
///
/// Strict as `kubectl --validate=strict` and kubeconform `-strict` are: a field the schema does not name is an error
/// (a real server drops it, or refuses it with `fieldValidation=Strict`), as are a wrong type, a missing required
/// field, a value outside an enum, an int32 out of range and `format: byte` that is not base64.
public struct KubernetesSchemas: Sendable {
    /// Built-in definitions by name (`io.k8s.api.apps.v1.DaemonSet`).
    var definitions: [String: JSONValue]
    /// `apiVersion/Kind` (`apps/v1/DaemonSet`, `v1/Pod`) → definition name.
    var builtIn: [String: String]
    /// `apiVersion/Kind` of a custom resource → its openAPIV3Schema.
    var custom: [String: JSONValue] = [:]

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String)
        public var description: String { switch self { case .unreadable(let why): "schemas: \(why)" } }
    }

    /// Reads the extracted definitions file.
    public init(contentsOf path: String) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let definitions = (try? JSONValue.parse(text))?.objectValue?["definitions"]?.objectValue else {
            throw LoadError.unreadable("\(path) is not a definitions document")
        }
        self.definitions = definitions
        var builtIn: [String: String] = [:]
        for (name, definition) in definitions {
            for gvk in definition.objectValue?["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
                let entry = gvk.objectValue ?? [:]
                let group = entry["group"]?.stringValue ?? "", version = entry["version"]?.stringValue ?? ""
                builtIn[(group.isEmpty ? version : group + "/" + version) + "/" + (entry["kind"]?.stringValue ?? "")] = name
            }
        }
        self.builtIn = builtIn
    }

    /// The repository's checkout, found from this file's path.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The v1.32 built-in definitions and the CRDs of `deploy/crd`; nil only when the checkout lacks them.
    public static let bundled: KubernetesSchemas? = {
        guard var schemas = try? KubernetesSchemas(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/KubernetesSchemas/v1.32.json").path)
        else { return nil }
        // resource.k8s.io/v1 (DRA) from release-1.34.
        if let dra = try? KubernetesSchemas(contentsOf: repositoryRoot.appendingPathComponent("Tests/Fixtures/KubernetesSchemas/v1.34-resource.json").path) {
            schemas.merge(dra)
        }
        // deploy/'s CRDs, and those of other projects MultiNIC reads and writes (IPAMClaim).
        for folder in ["deploy/crd", "Tests/Fixtures/KubernetesSchemas"] {
            let directory = repositoryRoot.appendingPathComponent(folder)
            for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where file.hasSuffix(".yaml") {
                for crd in (try? ManifestLoader.load(path: directory.appendingPathComponent(file).path)) ?? [] {
                    schemas.addCustomResource(crd.json)
                }
            }
        }
        return schemas
    }()

    /// Adds another document's definitions (those it shares with this one are taken from it).
    public mutating func merge(_ other: KubernetesSchemas) {
        definitions.merge(other.definitions) { _, newer in newer }
        builtIn.merge(other.builtIn) { _, newer in newer }
    }

    /// Registers every served version of a CustomResourceDefinition.
    public mutating func addCustomResource(_ crd: JSONValue) {
        guard let spec = crd.objectValue?["spec"]?.objectValue, let group = spec["group"]?.stringValue,
              let kind = spec["names"]?.objectValue?["kind"]?.stringValue else { return }
        for version in spec["versions"]?.arrayValue ?? [] {
            guard let name = version.objectValue?["name"]?.stringValue,
                  let schema = version.objectValue?["schema"]?.objectValue?["openAPIV3Schema"] else { continue }
            custom[group + "/" + name + "/" + kind] = schema
        }
    }

    /// Whether objects of this apiVersion and kind have a schema here.
    public func knows(apiVersion: String, kind: String) -> Bool {
        builtIn[apiVersion + "/" + kind] != nil || custom[apiVersion + "/" + kind] != nil
    }

    /// Every problem of `object` (an empty list when it is valid); nil when its apiVersion and kind have no schema
    /// here (a kind this file does not carry).
    public func problems(_ object: JSONValue) -> [String]? {
        let fields = object.objectValue ?? [:]
        guard let apiVersion = fields["apiVersion"]?.stringValue, let kind = fields["kind"]?.stringValue else {
            return ["apiVersion and kind: Required value"]
        }
        let key = apiVersion + "/" + kind
        if let name = builtIn[key], let definition = definitions[name] {
            return check(object, definition, at: kind)
        }
        if let schema = custom[key] {
            return checkStructural(object, schema, at: kind, root: true)
        }
        return nil
    }

    /// The kind a collection path (`apis/apps/v1/daemonsets`) holds, from the definitions' names.
    public func kind(ofCollection collection: String) -> (apiVersion: String, kind: String)? {
        let parts = collection.split(separator: "/").map(String.init)
        guard let plural = parts.last, parts.count >= 3 else { return nil }
        let apiVersion = parts[1..<(parts.count - 1)].joined(separator: "/")
        for key in Array(builtIn.keys) + Array(custom.keys) where key.hasPrefix(apiVersion + "/") {
            let kind = String(key.dropFirst(apiVersion.count + 1))
            guard !kind.contains("/") else { continue }
            let lower = kind.lowercased()
            let candidate = lower.hasSuffix("y") ? lower.dropLast() + "ies" : lower.hasSuffix("s") ? lower + "es" : lower + "s"
            if candidate == plural { return (apiVersion, kind) }
        }
        return nil
    }

    // MARK: built-in (OpenAPI v2)

    private func check(_ value: JSONValue, _ schema: JSONValue, at path: String) -> [String] {
        guard var node = schema.objectValue else { return [] }
        var definitionName: String?
        if let ref = node["$ref"]?.stringValue {
            definitionName = String(ref.split(separator: "/").last ?? "")
            guard let name = definitionName, let target = definitions[name]?.objectValue else { return ["\(path): no definition \(ref)"] }
            node = target
        }
        if case .null = value { return [] }
        if definitionName == "io.k8s.apimachinery.pkg.api.resource.Quantity" {
            switch value {
            case .string, .integer, .double: return []
            default: return ["\(path): a quantity is a string or a number, found \(value.typeName)"]
            }
        }
        guard let type = node["type"]?.stringValue else { return [] }  // RawExtension, JSON: anything
        switch (type, value) {
        case ("string", .integer) where node["format"]?.stringValue == "int-or-string":
            return []
        case ("string", .string(let text)):
            if let allowed = node["enum"]?.arrayValue, !allowed.contains(.string(text)) {
                return ["\(path): Unsupported value: \"\(text)\": supported values: \(allowed.compactMap(\.stringValue).joined(separator: ", "))"]
            }
            if node["format"]?.stringValue == "byte" && Data(base64Encoded: text) == nil {
                return ["\(path): illegal base64 data"]
            }
            return []
        case ("integer", .integer(let number)):
            if node["format"]?.stringValue == "int32" && Int32(exactly: number) == nil { return ["\(path): \(number) out of int32 range"] }
            return []
        case ("number", .integer), ("number", .double), ("boolean", .bool):
            return []
        case ("array", .array(let items)):
            return items.enumerated().flatMap { check($0.element, node["items"] ?? .object([:]), at: "\(path)[\($0.offset)]") }
        case ("object", .object(let fields)):
            return checkFields(fields, node, at: path) { check($0, $1, at: $2) }
        default:
            return ["\(path): expected \(type), found \(value.typeName)"]
        }
    }

    /// Required fields, known fields (strict), additionalProperties for maps.
    private func checkFields(_ fields: [String: JSONValue], _ node: [String: JSONValue], at path: String,
                             _ child: (JSONValue, JSONValue, String) -> [String]) -> [String] {
        var problems = (node["required"]?.arrayValue ?? []).compactMap(\.stringValue)
            .filter { fields[$0] == nil || fields[$0] == .null }.map { "\(path).\($0): Required value" }
        let properties = node["properties"]?.objectValue
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if let schema = properties?[name] {
                problems += child(value, schema, "\(path).\(name)")
            } else if let values = node["additionalProperties"], values.objectValue != nil {
                problems += child(value, values, "\(path).\(name)")
            } else if properties != nil || node["additionalProperties"] == .bool(false) {
                problems.append("\(path).\(name): unknown field \"\(name)\"")
            }
        }
        return problems
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .integer(let number)?: Double(number)
        case .double(let number)?: number
        default: nil
        }
    }

    // MARK: custom resources (structural openAPIV3Schema)

    private func checkStructural(_ value: JSONValue, _ schema: JSONValue, at path: String, root: Bool = false) -> [String] {
        guard let node = schema.objectValue else { return [] }
        if case .null = value { return node["nullable"] == .bool(true) || !root ? [] : ["\(path): null"] }
        if node["x-kubernetes-int-or-string"] == .bool(true) {
            switch value {
            case .string, .integer: return []
            default: return ["\(path): expected an integer or a string, found \(value.typeName)"]
            }
        }
        let preserve = node["x-kubernetes-preserve-unknown-fields"] == .bool(true)
        guard let type = node["type"]?.stringValue else { return [] }
        switch (type, value) {
        case ("string", .string(let text)):
            if let allowed = node["enum"]?.arrayValue, !allowed.contains(.string(text)) {
                return ["\(path): Unsupported value: \"\(text)\": supported values: \(allowed.compactMap(\.stringValue).joined(separator: ", "))"]
            }
            if let limit = Self.number(node["maxLength"]), Double(text.count) > limit { return ["\(path): longer than \(Int(limit))"] }
            return []
        case ("integer", .integer(let number)):
            if let minimum = Self.number(node["minimum"]), Double(number) < minimum { return ["\(path): \(number) below \(minimum)"] }
            if let maximum = Self.number(node["maximum"]), Double(number) > maximum { return ["\(path): \(number) above \(maximum)"] }
            return []
        case ("number", .integer), ("number", .double), ("boolean", .bool):
            return []
        case ("array", .array(let items)):
            return items.enumerated().flatMap { checkStructural($0.element, node["items"] ?? .object([:]), at: "\(path)[\($0.offset)]") }
        case ("object", .object(var fields)):
            var problems: [String] = []
            if root, let metadata = fields.removeValue(forKey: "metadata"), let objectMeta = definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"] {
                problems += check(metadata, objectMeta, at: "\(path).metadata")
            }
            if root { fields["apiVersion"] = nil; fields["kind"] = nil }
            if preserve && node["properties"] == nil { return problems }
            var strict = node
            if preserve { strict["additionalProperties"] = .object([:]) }  // unknown fields are kept, not refused
            return problems + checkFields(fields, strict, at: path) { checkStructural($0, $1, at: $2) }
        default:
            return ["\(path): expected \(type), found \(value.typeName)"]
        }
    }
}
