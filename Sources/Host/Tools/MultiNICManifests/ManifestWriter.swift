import Foundation
import MultiNICCore
import Yams

/// Renders resources as JSON or YAML, stable from run to run. YAML keeps the model's field order (apiVersion,
/// kind, metadata, spec …) with maps sorted; JSON sorts every key, as `kubectl get -o json` does.
public enum ManifestWriter {
    /// Pretty JSON of one value.
    public static func json<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    /// YAML of one value, as one document.
    public static func yaml<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = YAMLEncoder()
        encoder.options.indent = 2
        return try encoder.encode(value)
    }

    /// Several YAML documents, separated by `---`.
    public static func yamlDocuments(_ parts: [String]) -> String {
        parts.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined(separator: "---\n")
    }
}
