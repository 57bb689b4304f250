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
