import MultiNICCore

/// RFC 6902 JSON Patch (`add`, `remove`, `replace`, `test`, `move`, `copy`) over RFC 6901 pointers, as the API
/// server applies `application/json-patch+json`.
enum JSONPatch {
    struct Failure: Error {
        let message: String
    }

    static func tokens(_ pointer: String) throws(Failure) -> [String] {
        guard pointer.isEmpty || pointer.hasPrefix("/") else { throw Failure(message: "\(pointer): a pointer starts with /") }
        return pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func value(at path: [String], in document: JSONValue) -> JSONValue? {
        guard let first = path.first else { return document }
        let rest = Array(path.dropFirst())
        if let object = document.objectValue { return object[first].flatMap { value(at: rest, in: $0) } }
        if let array = document.arrayValue, let index = Int(first), array.indices.contains(index) { return value(at: rest, in: array[index]) }
        return nil
    }

    /// `document` with `change` applied to the value at `path` (nil: remove it); `inserting` adds into arrays.
    static func updating(_ document: JSONValue, at path: [String], inserting: Bool,
                         _ change: JSONValue?) throws(Failure) -> JSONValue {
        guard let first = path.first else {
            guard let change else { throw Failure(message: "cannot remove the whole document") }
            return change
        }
        let rest = Array(path.dropFirst())
        if var object = document.objectValue {
            if rest.isEmpty {
                if change == nil || !inserting { guard object[first] != nil else { throw Failure(message: "\(first) does not exist") } }
                object[first] = change
            } else {
                guard let inner = object[first] else { throw Failure(message: "\(first) does not exist") }
                object[first] = try updating(inner, at: rest, inserting: inserting, change)
            }
            return .object(object)
        }
        if var array = document.arrayValue {
            let index = first == "-" ? array.count : Int(first) ?? -1
            if rest.isEmpty {
                if inserting, let change, (0...array.count).contains(index) {
                    array.insert(change, at: index)
                } else if array.indices.contains(index) {
                    if let change { array[index] = change } else { array.remove(at: index) }
                } else {
                    throw Failure(message: "index \(first) is out of range")
                }
            } else {
                guard array.indices.contains(index) else { throw Failure(message: "index \(first) is out of range") }
                array[index] = try updating(array[index], at: rest, inserting: inserting, change)
            }
            return .array(array)
        }
        throw Failure(message: "\(first): not inside an object or array")
    }

    static func apply(_ operations: [JSONValue], to document: JSONValue) throws(Failure) -> JSONValue {
        var result = document
        for operation in operations {
            let fields = operation.objectValue ?? [:]
            guard let op = fields["op"]?.stringValue, let pointer = fields["path"]?.stringValue else {
                throw Failure(message: "every operation needs op and path")
            }
            let path = try tokens(pointer)
            switch op {
            case "add": result = try updating(result, at: path, inserting: true, fields["value"] ?? .null)
            case "remove": result = try updating(result, at: path, inserting: false, nil)
            case "replace": result = try updating(result, at: path, inserting: false, fields["value"] ?? .null)
            case "test":
                guard value(at: path, in: result) == fields["value"] else { throw Failure(message: "testing value \(pointer) failed") }
            case "move", "copy":
                guard let from = fields["from"]?.stringValue, let moved = value(at: try tokens(from), in: result) else {
                    throw Failure(message: "\(op): from does not exist")
                }
                if op == "move" { result = try updating(result, at: try tokens(from), inserting: false, nil) }
                result = try updating(result, at: path, inserting: true, moved)
            default:
                throw Failure(message: "unknown op \(op)")
            }
        }
        return result
    }
}
