import MultiNICCore

/// Where a document came from: file, position in the file, and what it says it is.
public struct DocumentRef: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based document number (for a JSON array or `kind: List`, the item number).
    public var number: Int
    public var kind: String?
    public var name: String?

    public init(file: String, number: Int, kind: String? = nil, name: String? = nil) {
        self.file = file
        self.number = number
        self.kind = kind
        self.name = name
    }

    public var description: String {
        var text = "\(file): document \(number)"
        switch (kind, name) {
        case (let kind?, let name?): text += " (\(kind) \(name))"
        case (let kind?, nil): text += " (\(kind))"
        default: break
        }
        return text
    }
}

/// Why a manifest file could not be read into resources. Every case says where.
public enum ManifestError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file cannot be opened.
    case unreadable(file: String, reason: String)
    /// YAML or JSON syntax error at a position.
    case syntax(file: String, line: Int, column: Int, problem: String)
    /// A document that does not fit its kind; every issue names its field.
    case invalid(DocumentRef, [FieldIssue])
    /// The file holds no document of the kind asked for.
    case missing(file: String, kind: String)

    public var description: String {
        switch self {
        case .unreadable(let file, let reason): "\(file): cannot read: \(reason)"
        case .syntax(let file, let line, let column, let problem): "\(file):\(line):\(column): \(problem)"
        case .invalid(let document, let issues): issues.map { "\(document): \($0)" }.joined(separator: "\n")
        case .missing(let file, let kind): "\(file): no \(kind) document found"
        }
    }
}
