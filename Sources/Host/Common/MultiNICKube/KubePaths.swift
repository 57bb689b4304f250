import MultiNICCore

/// REST paths of the Kubernetes API.
public enum KubePaths {
    /// `/api/v1` for the core group, `/apis/<group>/<version>` otherwise.
    public static func base(apiVersion: String) -> String {
        apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
    }

    public static func collection(apiVersion: String, plural: String, namespace: String?) -> String {
        base(apiVersion: apiVersion) + (namespace.map { "/namespaces/\(escape($0))" } ?? "") + "/\(plural)"
    }

    public static func collection<S: ResourceSpec>(_ type: S.Type, namespace: String?) -> String {
        collection(apiVersion: S.apiVersion, plural: S.plural, namespace: S.isNamespaced ? namespace : nil)
    }

    public static func object<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) -> String {
        collection(S.self, namespace: namespace) + "/" + escape(name)
    }

    /// The resource name of a kind MultiNIC does not model (`SriovNetworkNodePolicy` → `sriovnetworknodepolicies`).
    public static func plural(ofKind kind: String) -> String {
        let lower = kind.lowercased()
        if lower.hasSuffix("y") && !lower.hasSuffix("ey") { return String(lower.dropLast()) + "ies" }
        if lower.hasSuffix("s") || lower.hasSuffix("x") { return lower + "es" }
        return lower + "s"
    }

    /// Percent-encoding for a path segment or query value.
    public static func escape(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(Character(UnicodeScalar(byte)))
            default:
                result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return result
    }
}

extension String {
    func leftPadded(to length: Int) -> String { count >= length ? self : String(repeating: "0", count: length - count) + self }
}
