#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// The process environment without Foundation (the CNI binary's cold start matters).
public enum CNIProcessEnvironment {
    public static func variables() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    /// All of stdin (the NetConf).
    public static func standardInput() -> [UInt8] {
        FileIO.readAll(from: 0) ?? []
    }
}
