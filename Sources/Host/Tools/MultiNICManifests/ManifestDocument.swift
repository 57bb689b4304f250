import Foundation
import MultiNICCore

/// One document of a manifest file, kept as generic JSON until it is decoded into a typed resource.
public struct ManifestDocument: Sendable, Hashable {
    public let ref: DocumentRef
    public let json: JSONValue

    init(file: String, number: Int, json: JSONValue) {
        let object = json.objectValue
        let metadata = object?["metadata"]?.objectValue
        ref = DocumentRef(file: file, number: number, kind: object?["kind"]?.stringValue,
                          name: metadata?["name"]?.stringValue)
        self.json = json
    }

    /// `kind` of the document, if it has one.
    public var kind: String? { ref.kind }

    /// The keys under `spec`, for unknown-field warnings.
    public var specKeys: Set<String> {
        Set(json.objectValue?["spec"]?.objectValue?.keys.map { $0 } ?? [])
    }

    /// Decodes the document as a resource of `Spec`'s kind; errors name the field.
    public func decode<Spec: ResourceSpec>(_ type: Resource<Spec>.Type) throws(ManifestError) -> Resource<Spec> {
        do {
            let data = try JSONEncoder().encode(json)
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw .invalid(ref, [DecodingErrorText.issue(error)])
        } catch {
            throw .invalid(ref, [FieldIssue("(document)", "\(error)")])
        }
    }
}

/// DecodingError → a field path and a sentence.
enum DecodingErrorText {
    static func issue(_ error: DecodingError) -> FieldIssue {
        switch error {
        case .keyNotFound(let key, let context):
            return FieldIssue(path(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return FieldIssue(path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return FieldIssue(path(context.codingPath), "must be \(typeName(type))")
        case .dataCorrupted(let context):
            return FieldIssue(path(context.codingPath), context.debugDescription)
        @unknown default:
            return FieldIssue("(document)", "\(error)")
        }
    }

    /// `spec.masterNets[2]` from coding keys.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text.isEmpty ? "(document)" : text
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean (true or false)"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt16.Type: "an integer"
        case is Double.Type: "a number"
        default:
            String(describing: type).hasPrefix("Array") ? "a list"
                : String(describing: type).hasPrefix("Dictionary") ? "a mapping" : "an object"
        }
    }
}
