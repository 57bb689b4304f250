import MultiNICCore
import MultiNICPluginHost

/// One line of a plugin's conformance report.
public struct ConformanceCheck: Sendable, Hashable, CustomStringConvertible {
    public enum Outcome: Sendable, Hashable {
        case passed
        case failed
        /// Not run here, with the reason (e.g. the scratch-namespace checks need root).
        case skipped
    }

    public var name: String
    public var outcome: Outcome
    public var detail: String

    public init(_ name: String, _ outcome: Outcome, _ detail: String = "") {
        self.name = name
        self.outcome = outcome
        self.detail = detail
    }

    static func expect(_ name: String, _ condition: Bool, _ detail: @autoclosure () -> String) -> ConformanceCheck {
        ConformanceCheck(name, condition ? .passed : .failed, condition ? "" : detail())
    }

    public var description: String {
        let mark = switch outcome {
        case .passed: "✔"
        case .failed: "✘"
        case .skipped: "-"
        }
        return "\(mark) \(name)" + (detail.isEmpty ? "" : ": \(detail)")
    }
}

/// What a third-party plugin author must get right, checked against one library: it loads (trusted file, entry
/// symbol, ABI version, a registration), its names are usable, and then what its kind promises — a backend renders
/// the seed's and the sample networks into valid NADs and delegate configs without MultiNIC-only keys, and attaches,
/// checks and detaches natively in scratch namespaces when it can; a policy keeps the ranking invariants.
public enum PluginConformance {
    /// Verifies the library at `path`. `scratchNamespaces`: run the native attach checks in network namespaces of
    /// their own (root only; removed afterwards, even on failure).
    public static func verify(path: String, scratchNamespaces: Bool) -> [ConformanceCheck] {
        let registration: PluginRegistration
        do {
            registration = try PluginLoader.load(path: path)
        } catch {
            return [ConformanceCheck("loads", .failed, error.description)]
        }
        var checks = [ConformanceCheck("loads", .passed, "ABI \(PluginABI.version), \(registration.kind.rawValue) "
                                        + registration.names.map { "\"\($0)\"" }.joined(separator: ", ")
                                        + " version \(registration.version)")]
        checks.append(names(registration))
        if let backend = registration.backend, let name = registration.names.first {
            checks += BackendConformance.render(backend, name: name)
            if let native = backend as? any NativeAttaching {
                checks += scratchNamespaces ? NativeConformance.check(native, name: name)
                    : [ConformanceCheck("native attach, check, detach", .skipped, "needs root (scratch network namespaces)")]
            } else {
                checks.append(ConformanceCheck("native attach", .skipped, "the backend does not implement NativeAttaching"))
            }
        }
        if let policy = registration.policy {
            checks += PolicyConformance.check(policy)
        }
        return checks
    }

    /// Names: at least one, each a plain word (what `plugin.type` and `attachPolicy.strategy` hold: `macvlan`,
    /// `costOpt`), no repeats, a version.
    static func names(_ registration: PluginRegistration) -> ConformanceCheck {
        let bad = registration.names.filter { !isUsableName($0) }
        let repeated = registration.names.count != Set(registration.names).count
        let problems = (registration.names.isEmpty ? ["no name"] : [])
            + bad.map { "\"\($0)\" is not 1-63 of letters, digits and '-', starting with a letter" }
            + (repeated ? ["a name is given twice"] : []) + (registration.version.isEmpty ? ["no version"] : [])
        return ConformanceCheck.expect("names and version", problems.isEmpty, problems.joined(separator: "; "))
    }

    static func isUsableName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isLetter(_ byte: UInt8) -> Bool { (97...122).contains(byte) || (65...90).contains(byte) }
        guard (1...63).contains(bytes.count), let first = bytes.first, isLetter(first) else { return false }
        return bytes.allSatisfy { isLetter($0) || (48...57).contains($0) || $0 == 45 }
    }
}
