#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// A CNI error as the spec prints it on stdout: `{cniVersion, code, msg, details}` with a non-zero exit.
/// Every failure of the CNI binaries becomes exactly one of these, in the dispatcher.
public struct CNIError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: UInt
    public var msg: String
    public var details: String

    public init(_ code: UInt, _ msg: String, details: String = "") {
        self.code = code
        self.msg = msg
        self.details = details
    }

    // Well-known codes (SPEC 1.1.0 §Error; 8 and 999 from the reference library).
    public static let incompatibleVersion: UInt = 1
    public static let unsupportedField: UInt = 2
    public static let unknownContainer: UInt = 3
    public static let invalidEnvironment: UInt = 4
    public static let ioFailure: UInt = 5
    public static let decodingFailure: UInt = 6
    public static let invalidConfig: UInt = 7
    public static let invalidNetNS: UInt = 8
    public static let tryAgainLater: UInt = 11
    public static let notAvailable: UInt = 50
    public static let degraded: UInt = 51
    /// Plugin-specific (≥ 100): the daemon refused the pod's namespace for this network. Not retryable.
    public static let forbidden: UInt = 403
    public static let internalError: UInt = 999

    public var description: String { details.isEmpty ? "\(msg) (code \(code))" : "\(msg): \(details) (code \(code))" }

    /// The JSON printed on stdout.
    public func json(cniVersion: String) -> String {
        var object: [String: JSONValue] = ["cniVersion": .string(cniVersion), "code": .integer(Int64(code)), "msg": .string(msg)]
        if !details.isEmpty { object["details"] = .string(details) }
        return JSONValue.object(object).description
    }
}
