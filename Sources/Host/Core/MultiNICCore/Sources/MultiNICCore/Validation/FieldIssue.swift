/// One problem with one field of a resource: `spec.ipam.hostBlock: must be an integer, not string "6"`.
public struct FieldIssue: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path from the document root, e.g. `spec.masterNets[2]`.
    public var path: String
    /// What is wrong, written to follow the path.
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// The outcome of validating a resource: errors block it, warnings do not.
public struct ValidationReport: Sendable, Hashable {
    public var errors: [FieldIssue] = []
    public var warnings: [FieldIssue] = []

    public init(errors: [FieldIssue] = [], warnings: [FieldIssue] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    /// True when there are no errors.
    public var isValid: Bool { errors.isEmpty }

    mutating func error(_ path: String, _ message: String) { errors.append(FieldIssue(path, message)) }
    mutating func warning(_ path: String, _ message: String) { warnings.append(FieldIssue(path, message)) }
}
