/// DecodingError → a field path and a sentence.
public enum DecodingErrorText {
    /// The field the error is about and what is wrong with it.
    public static func issue(_ error: DecodingError) -> FieldIssue {
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
    public static func path(_ keys: [any CodingKey]) -> String {
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

    /// Short, stable text for any decoding error (the platform's messages are long and vary): the parser's reason
    /// for text that is not JSON, else `field: problem`.
    public static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        if case .dataCorrupted(let context) = decoding, context.codingPath.isEmpty {
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        }
        return issue(decoding).description
    }
}
