import Foundation
import MultiNICCore
import Yams

/// Reads manifest files: multi-document YAML, a JSON object, a JSON array of objects, or a `kind: List`.
/// Every document is read before anything is returned, so a syntax error in a later document fails the
/// whole file instead of being silently dropped.
public enum ManifestLoader {
    /// Reads a file (`-` reads standard input).
    public static func load(path: String) throws(ManifestError) -> [ManifestDocument] {
        let text: String
        do {
            if path == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
            }
        } catch {
            throw .unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        return try parse(text, file: path)
    }

    /// Parses text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ManifestError) -> [ManifestDocument] {
        let roots: [JSONValue]
        let trimmed = text.drop { $0.isWhitespace }
        if trimmed.first == "{" || trimmed.first == "[" {
            roots = [try parseJSON(text, file: file)]
        } else {
            roots = try parseYAML(text, file: file)
        }
        var documents: [ManifestDocument] = []
        for root in roots {
            for item in expand(root) {
                documents.append(ManifestDocument(file: file, number: documents.count + 1, json: item))
            }
        }
        return documents
    }

    /// Decodes every document of `Spec`'s kind; documents of other kinds are left out.
    public static func resources<Spec: ResourceSpec>(
        _ type: Resource<Spec>.Type, in documents: [ManifestDocument]
    ) throws(ManifestError) -> [Resource<Spec>] {
        var result: [Resource<Spec>] = []
        for document in documents where document.kind == Spec.kind {
            result.append(try document.decode(type))
        }
        return result
    }

    /// A JSON array or a `kind: List` stands for its items; `null` documents (an empty `---`) vanish.
    private static func expand(_ root: JSONValue) -> [JSONValue] {
        switch root {
        case .null: return []
        case .array(let items): return items
        case .object(let members) where members["kind"]?.stringValue == "List":
            if case .array(let items)? = members["items"] { return items }
            return [root]
        default: return [root]
        }
    }

    private static func parseJSON(_ text: String, file: String) throws(ManifestError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            // Fall back to the YAML parser for its line/column report (JSON is YAML).
            let yaml = try parseYAML(text, file: file)
            if yaml.count == 1 { return yaml[0] }
            throw .syntax(file: file, line: 1, column: 1, problem: "not valid JSON")
        }
    }

    /// YAML 1.2-style scalars: only true/false are booleans (`yes`, `on` stay strings), timestamps stay strings.
    private static let resolver: Resolver = {
        let base = Resolver.default.removing(.timestamp)
        return (try? base.replacing(.bool, with: "^(?:true|True|TRUE|false|False|FALSE)$")) ?? base
    }()

    private static func parseYAML(_ text: String, file: String) throws(ManifestError) -> [JSONValue] {
        do {
            let parser = try Parser(yaml: text, resolver: resolver)
            var roots: [JSONValue] = []
            while let node = try parser.nextRoot() {
                roots.append(try json(from: node, file: file))
            }
            return roots
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw .syntax(file: file, line: 0, column: 0, problem: "\(error)")
        }
    }

    private static func json(from node: Node, file: String) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .integer(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map(JSONValue.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let sequence):
            return .array(try sequence.map { try json(from: $0, file: file) })
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else {
                    let mark = key.mark
                    throw ManifestError.syntax(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                               problem: "mapping keys must be plain strings")
                }
                members[name] = try json(from: value, file: file)
            }
            return .object(members)
        case .alias:
            let mark = node.mark
            throw ManifestError.syntax(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                       problem: "YAML aliases are not supported")
        }
    }

    private static func syntaxError(_ error: YamlError, file: String) -> ManifestError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text), " } ?? ""
            return .syntax(file: file, line: mark.line, column: mark.column, problem: prefix + problem)
        default:
            return .syntax(file: file, line: 0, column: 0, problem: "\(error)")
        }
    }
}
