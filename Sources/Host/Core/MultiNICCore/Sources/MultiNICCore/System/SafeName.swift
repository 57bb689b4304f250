/// A name that becomes one path component, one token of a system file (rt_tables) or a program name looked up in a
/// search path: `[A-Za-z0-9._-]`, 1 to 253 characters, never `.` or `..`. Every such name passes through this type —
/// when it arrives (NetConf, cni-args, daemon requests) and when it is read back (journal, attachment records) — so a
/// name written by a namespace user can never leave the directory it is meant for.
public struct SafeName: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The checked text.
    public let value: String

    /// The longest accepted name (a Kubernetes DNS subdomain's limit).
    public static let maximumLength = 253

    /// Checks `text`; the error names what is wrong with it.
    public init(_ text: String) throws(SafeNameError) {
        if let problem = Self.problem(text) { throw SafeNameError(text: text, problem: problem) }
        value = text
    }

    /// `nil` when `text` is a safe name, else what is wrong with it.
    public static func problem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        if text == "." || text == ".." { return "is \(text)" }
        let bytes = text.utf8
        if bytes.count > maximumLength { return "is longer than \(maximumLength) characters" }
        for byte in bytes where !isAllowed(byte) {
            return "contains \(describe(byte)) (only letters, digits, '.', '_' and '-' are allowed)"
        }
        return nil
    }

    /// True for a safe name.
    public static func isValid(_ text: String) -> Bool { problem(text) == nil }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func describe(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }

    public var description: String { value }

    public static func < (lhs: SafeName, rhs: SafeName) -> Bool { lhs.value < rhs.value }
}

/// A name was refused by ``SafeName``.
public struct SafeNameError: Error, Sendable, Hashable, CustomStringConvertible {
    public let text: String
    public let problem: String

    public var description: String { "\(LogText.escaped(text, limit: 80)) \(problem)" }
}

/// Text from untrusted sources made safe for a one-line log record: control characters, quotes and backslashes are
/// escaped (`\n`, `\x1b`, …), so one record can never become two, and long text is cut.
public enum LogText {
    /// `text` with every byte below 0x20, 0x7F, `"` and `\` escaped; cut after `limit` characters (with `…`).
    public static func escaped(_ text: String, limit: Int = 1024) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                result += "…"
                break
            }
            count += 1
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && scalar.value < 0xA0)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Range checks before a number from a request or a document becomes an integer: a conversion of an infinite, NaN or
/// out-of-range `Double` traps, so every such value passes here first.
public enum CheckedNumber {
    /// `value` as an `Int` when it is finite and within `range`, else `nil`.
    public static func integer(_ value: Double, in range: ClosedRange<Int>) -> Int? {
        guard value.isFinite, value >= Double(range.lowerBound), value <= Double(range.upperBound) else { return nil }
        let rounded = value.rounded()
        // Double(Int.max) rounds up to 2^63, which does not fit: compare again after rounding.
        guard rounded < 9.2e18, rounded > -9.2e18 else { return nil }
        let result = Int(rounded)
        return range.contains(result) ? result : nil
    }
}
