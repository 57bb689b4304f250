/// CNI spec versions: the one list the validator, the renderer and the CNI binaries share, so a network that
/// validates is one every node can run.
public enum CNIVersion {
    /// Every version MultiNIC speaks, oldest first (0.1.0 and 0.2.0 results have no per-interface list).
    public static let supported = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    public static let latest = "1.1.0"

    /// True for versions whose results carry `ips[].version` (0.3.x, 0.4.0).
    public static func usesIPVersionField(_ version: String) -> Bool {
        version.hasPrefix("0.")
    }

    /// True from 0.4.0 on (CHECK and prevResult on DEL).
    public static func hasCheck(_ version: String) -> Bool { atLeast(version, "0.4.0") }

    /// True from 1.1.0 on (GC and STATUS).
    public static func hasGC(_ version: String) -> Bool { atLeast(version, "1.1.0") }

    /// Numeric comparison of dotted versions (`1.10.0` is after `1.9.0`); unparsable parts count as 0.
    public static func atLeast(_ version: String, _ minimum: String) -> Bool {
        let lhs = version.split(separator: ".").map { Int($0) ?? 0 }
        let rhs = minimum.split(separator: ".").map { Int($0) ?? 0 }
        for position in 0..<max(lhs.count, rhs.count) {
            let (a, b) = (position < lhs.count ? lhs[position] : 0, position < rhs.count ? rhs[position] : 0)
            if a != b { return a > b }
        }
        return true
    }

    /// The `VERSION` answer.
    public static var versionInfo: String {
        "{\"cniVersion\":\"\(latest)\",\"supportedVersions\":[" + supported.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
    }
}
