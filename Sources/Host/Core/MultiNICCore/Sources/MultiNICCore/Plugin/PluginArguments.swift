/// Reads `plugin.args` for one backend: typed getters that record a field-named issue for a bad value, and a
/// warning for every key the backend never asked for (upstream silently dropped them).
public struct PluginArguments: Sendable {
    private let args: [String: String]
    private let backend: String
    private var asked: [String] = []
    private var issues: [FieldIssue] = []

    public init(_ args: [String: String]?, backend: String) {
        self.args = args ?? [:]
        self.backend = backend
    }

    /// The first of `keys` that is present (aliases such as `minTxRate` / `min_tx_rate`).
    private mutating func raw(_ keys: [String]) -> (key: String, value: String)? {
        asked += keys
        for key in keys { if let value = args[key] { return (key, value) } }
        return nil
    }

    /// A string, optionally one of `allowed`.
    public mutating func string(_ keys: String..., allowed: [String]? = nil) -> String? {
        guard let (key, value) = raw(keys) else { return nil }
        if let allowed, !allowed.contains(value) {
            issues.append(FieldIssue("spec.plugin.args.\(key)", "\"\(value)\" is not one of \(allowed.joined(separator: ", "))"))
            return nil
        }
        return value
    }

    /// An integer within `range`.
    public mutating func integer(_ keys: String..., range: ClosedRange<Int>) -> Int? {
        guard let (key, value) = raw(keys) else { return nil }
        guard let number = Int(value), range.contains(number) else {
            issues.append(FieldIssue("spec.plugin.args.\(key)", "\"\(value)\" is not an integer from \(range.lowerBound) to \(range.upperBound)"))
            return nil
        }
        return number
    }

    /// A boolean: true/false (also on/off, as the SR-IOV CNI spells them).
    public mutating func boolean(_ keys: String...) -> Bool? {
        guard let (key, value) = raw(keys) else { return nil }
        switch value.lowercased() {
        case "true", "on": return true
        case "false", "off": return false
        default:
            issues.append(FieldIssue("spec.plugin.args.\(key)", "\"\(value)\" is not true or false"))
            return nil
        }
    }

    /// Throws the collected issues, or returns a warning per key no getter asked for.
    public func finish() throws(PluginError) -> [FieldIssue] {
        guard issues.isEmpty else { throw .invalidArguments(issues) }
        let known = Set(asked)
        return args.keys.filter { !known.contains($0) }.sorted().map { key in
            FieldIssue("spec.plugin.args.\(key)", "unknown to the \(backend) backend and left out of the NAD (known: "
                + Array(Set(asked)).sorted().joined(separator: ", ") + ")")
        }
    }
}

/// Pieces every backend's delegate config is made of.
public enum DelegateConfig {
    /// `{cniVersion, name, type, <fields>, ipam}`: the config of one pod interface. An allocated address becomes
    /// `{type: static, addresses: [{address}], routes}`; a delegated IPAM section is passed as given.
    public static func make(type: String, attachment: NICAttachment, fields: [String: JSONValue]) -> JSONValue {
        var config = fields
        config["cniVersion"] = .string(attachment.cniVersion)
        config["name"] = .string(attachment.networkName)
        config["type"] = .string(type)
        config["ipam"] = ipam(attachment.ipam)
        return .object(config)
    }

    static func ipam(_ addressing: PodIPAM) -> JSONValue {
        switch addressing {
        case .delegated(let section):
            return section
        case .allocated(let address, let routes):
            var ipam: [String: JSONValue] = [
                "type": .string("static"),
                "addresses": .array([.object(["address": .string(address.description)])]),
            ]
            if !routes.isEmpty {
                ipam["routes"] = .array(routes.map { route in
                    var object: [String: JSONValue] = ["dst": .string(route.dst)]
                    if let gw = route.gw, !gw.isEmpty { object["gw"] = .string(gw) }
                    return .object(object)
                })
            }
            return .object(ipam)
        }
    }

    /// The rendered plugin config minus the keys the delegate sets itself.
    public static func carriedFields(of plugin: [String: JSONValue]) -> [String: JSONValue] {
        plugin.filter { !["cniVersion", "type", "name", "ipam"].contains($0.key) }
    }
}
