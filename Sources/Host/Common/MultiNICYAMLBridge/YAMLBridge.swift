// The YAML bridge (`libmultinic-yaml.so`): YAML text in, JSON text out, behind one C symbol (see YAMLBridgeABI in
// MultiNICCore). It links Yams, and through it Foundation, so that programs that read YAML only now and then
// (multi-nicd's kubeconfig) load both only when they do.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import Yams

/// `multinic_yaml_to_json`: see ``YAMLBridgeABI``.
@_cdecl("multinic_yaml_to_json")
public func multinicYAMLToJSON(_ hostABI: UInt32, _ yaml: UnsafePointer<CChar>?, _ bridgeABI: UnsafeMutablePointer<UInt32>?,
                               _ output: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    bridgeABI?.pointee = YAMLBridgeABI.version
    guard hostABI == YAMLBridgeABI.version else { return YAMLBridgeABI.Status.abiMismatch.rawValue }
    guard let output else { return YAMLBridgeABI.Status.refused.rawValue }
    guard let yaml else {
        output.pointee = strdup("no text")
        return YAMLBridgeABI.Status.refused.rawValue
    }
    do {
        output.pointee = strdup(try YAMLToJSON.convert(String(cString: yaml)))
        return YAMLBridgeABI.Status.converted.rawValue
    } catch {
        output.pointee = strdup("\(error)")
        return YAMLBridgeABI.Status.refused.rawValue
    }
}

/// One YAML document as JSON: mappings with scalar keys become objects, sequences arrays; a plain scalar is a boolean,
/// an integer, a number or null when YAML's core schema resolves it so, otherwise (quoted ones too) a string.
/// Aliases are expanded, merge keys (`<<`) applied; duplicate keys and non-scalar keys are refused.
enum YAMLToJSON {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func convert(_ text: String) throws -> String {
        let value = try Yams.compose(yaml: text).map(json) ?? .null
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func json(_ node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar): return try json(scalar, tag: Tag.Name(rawValue: node.tag.rawValue), at: node.mark)
        case .sequence(let sequence): return .array(try sequence.map(json))
        case .mapping(let mapping): return .object(try members(mapping))
        case .alias: throw Refusal(description: at(node.mark, "an unresolved alias"))
        }
    }

    /// A scalar by its resolved tag (`node.tag`: the scalar's own is unresolved for plain scalars).
    static func json(_ scalar: Node.Scalar, tag: Tag.Name, at mark: Mark?) throws -> JSONValue {
        switch tag {
        case .null: return .null
        case .bool: return Bool.construct(from: scalar).map(JSONValue.bool) ?? .string(scalar.string)
        case .int: return Int64.construct(from: scalar).map(JSONValue.integer) ?? .string(scalar.string)
        case .float:
            guard let number = Double.construct(from: scalar) else { return .string(scalar.string) }
            guard number.isFinite else { throw Refusal(description: at(mark, "\(scalar.string) is not a JSON number")) }
            return .double(number)
        default: return .string(scalar.string)
        }
    }

    /// The members of a mapping; a merge key's mapping (or sequence of mappings) adds the keys not given here.
    static func members(_ mapping: Node.Mapping) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        var merged: [[String: JSONValue]] = []
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                throw Refusal(description: at(key.mark, "a mapping key must be a scalar (JSON keys are strings)"))
            }
            if Tag.Name(rawValue: key.tag.rawValue) == .merge {
                switch value {
                case .mapping(let source): merged.append(try members(source))
                case .sequence(let sources):
                    for source in sources {
                        guard case .mapping(let mapping) = source else {
                            throw Refusal(description: at(source.mark, "a merge key takes mappings"))
                        }
                        merged.append(try members(mapping))
                    }
                default: throw Refusal(description: at(value.mark, "a merge key takes a mapping"))
                }
                continue
            }
            guard result.updateValue(try json(value), forKey: scalar.string) == nil else {
                throw Refusal(description: at(key.mark, "duplicate key \"\(scalar.string)\""))
            }
        }
        for source in merged {
            result.merge(source) { own, _ in own }
        }
        return result
    }

    static func at(_ mark: Mark?, _ text: String) -> String {
        mark.map { "line \($0.line), column \($0.column): " + text } ?? text
    }
}
