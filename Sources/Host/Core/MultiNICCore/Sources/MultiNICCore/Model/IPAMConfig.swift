/// The `spec.ipam` JSON text of a MultiNicNetwork, read into a typed multi-nic-ipam config or carried
/// through as opaque JSON for any other IPAM (whereabouts, host-local, static, …).
public enum IPAMConfig: Sendable, Hashable {
    /// `"type": "multi-nic-ipam"`.
    case multiNIC(MultiNICIPAMConfig)
    /// Any other IPAM; `type` is its declared type and `json` the whole object.
    case passthrough(type: String, json: JSONValue)

    /// The IPAM `type` name of MultiNIC's own IPAM.
    public static let multiNICType = "multi-nic-ipam"

    /// Parses the JSON text; the first problem is thrown, naming its field below `spec.ipam`.
    public static func parse(_ text: String) throws(FieldIssue) -> IPAMConfig {
        let (config, issues, _) = read(text)
        if let first = issues.first { throw first }
        guard let config else { throw FieldIssue("spec.ipam", "is empty") }
        return config
    }

    /// Reads the JSON text leniently: every problem is reported, fields with problems fall back to their
    /// defaults. The config is `nil` only when the text is not a JSON object with a `type`.
    /// Also returns the parsed JSON object (what the NAD carries), so the text is parsed once.
    public static func read(_ text: String) -> (IPAMConfig?, [FieldIssue], JSONValue?) {
        let json: JSONValue
        do {
            json = try JSONValue.parse(text)
        } catch {
            return (nil, [FieldIssue("spec.ipam", "is not valid JSON (\(DecodingErrorText.describe(error)))")], nil)
        }
        guard let object = json.objectValue else {
            return (nil, [FieldIssue("spec.ipam", "must be a JSON object, not a \(json.typeName)")], json)
        }
        guard let type = object["type"]?.stringValue, !type.isEmpty else {
            return (nil, [FieldIssue("spec.ipam.type", "is required (e.g. \"multi-nic-ipam\")")], json)
        }
        if type != multiNICType { return (.passthrough(type: type, json: json), [], json) }
        var issues: [FieldIssue] = []
        let config = MultiNICIPAMConfig(object: object, issues: &issues)
        return (.multiNIC(config), issues, json)
    }

    /// The IPAM type name.
    public var type: String {
        switch self {
        case .multiNIC: Self.multiNICType
        case .passthrough(let type, _): type
        }
    }
}

/// L2 or L3 handling of the pod blocks. l3 and l3s get host routes to every other host's pod blocks (the original
/// project's rule); l2 (or no mode) gets none.
public enum VLANMode: String, Codable, Sendable, Hashable, CaseIterable {
    case l2, l3, l3s

    /// True when host routes are installed.
    public var needsRoutes: Bool { self != .l2 }
}

/// A static pod route from the IPAM config.
public struct IPAMRoute: Codable, Sendable, Hashable {
    public var dst: String
    public var gw: String?

    public init(dst: String, gw: String? = nil) {
        self.dst = dst
        self.gw = gw
    }
}

/// The typed multi-nic-ipam config.
public struct MultiNICIPAMConfig: Sendable, Hashable {
    /// Bits of host index in each interface block.
    public var hostBlock: Int
    /// Bits of interface index in the global subnet.
    public var interfaceBlock: Int
    /// l2, l3 or l3s; `nil` when not given (treated as l2: no routes).
    public var vlanMode: VLANMode?
    /// Addresses or blocks never handed out (`a.b.c.d` means /32).
    public var excludeCIDRs: [String]
    /// Extra routes for pods.
    public var routes: [IPAMRoute]
    public var daemonIP: String?
    public var daemonPort: Int?
    /// DNS, carried through.
    public var dns: JSONValue?

    /// The keys multi-nic-ipam understands; others are reported as unknown.
    public static let knownKeys: [String] = [
        "type", "hostBlock", "interfaceBlock", "vlanMode", "excludeCIDRs", "routes", "daemonIP", "daemonPort", "dns",
    ]

    public init(hostBlock: Int, interfaceBlock: Int, vlanMode: VLANMode? = nil, excludeCIDRs: [String] = [],
                routes: [IPAMRoute] = [], daemonIP: String? = nil, daemonPort: Int? = nil, dns: JSONValue? = nil) {
        self.hostBlock = hostBlock
        self.interfaceBlock = interfaceBlock
        self.vlanMode = vlanMode
        self.excludeCIDRs = excludeCIDRs
        self.routes = routes
        self.daemonIP = daemonIP
        self.daemonPort = daemonPort
        self.dns = dns
    }

    /// Reads the fields; each problem is appended to `issues` and its field keeps its default.
    init(object: [String: JSONValue], issues: inout [FieldIssue]) {
        func attempt<T>(_ fallback: T, _ read: () throws(FieldIssue) -> T) -> T {
            do {
                return try read()
            } catch {
                issues.append(error)
                return fallback
            }
        }
        hostBlock = attempt(0) { () throws(FieldIssue) in try Self.integer(object, "hostBlock", default: 0) }
        interfaceBlock = attempt(0) { () throws(FieldIssue) in try Self.integer(object, "interfaceBlock", default: 0) }
        vlanMode = attempt(nil) { () throws(FieldIssue) in try Self.vlanMode(object) }
        excludeCIDRs = attempt([]) { () throws(FieldIssue) in try Self.strings(object, "excludeCIDRs") }
        routes = attempt([]) { () throws(FieldIssue) in try Self.routes(object) }
        daemonIP = attempt(nil) { () throws(FieldIssue) -> String? in
            switch object["daemonIP"] {
            case nil, .null: return nil
            case .string(let text): return text
            case let other?: throw FieldIssue("spec.ipam.daemonIP", "must be a string, not a \(other.typeName)")
            }
        }
        daemonPort = object["daemonPort"] == nil ? nil
            : attempt(nil) { () throws(FieldIssue) in try Self.integer(object, "daemonPort", default: 0) }
        dns = object["dns"]
    }

    private static func vlanMode(_ object: [String: JSONValue]) throws(FieldIssue) -> VLANMode? {
        switch object["vlanMode"] {
        case nil, .null, .string(""):
            return nil
        case .string(let text):
            guard let mode = VLANMode(rawValue: text) else {
                throw FieldIssue("spec.ipam.vlanMode", "\"\(text)\" is not one of l2, l3, l3s")
            }
            return mode
        case let other?:
            throw FieldIssue("spec.ipam.vlanMode", "must be a string (l2, l3 or l3s), not a \(other.typeName)")
        }
    }

    private static func integer(_ object: [String: JSONValue], _ key: String, default value: Int) throws(FieldIssue)
        -> Int
    {
        switch object[key] {
        case nil, .null: return value
        case .integer(let number): return Int(number)
        case .double(let number) where number.rounded() == number && abs(number) < 1e9: return Int(number)
        case let other?:
            throw FieldIssue("spec.ipam.\(key)", "must be an integer, not \(other.typeName) \(other)")
        }
    }

    private static func strings(_ object: [String: JSONValue], _ key: String) throws(FieldIssue) -> [String] {
        try JSONFields(object: object, prefix: "spec.ipam.").strings(key)
    }

    private static func routes(_ object: [String: JSONValue]) throws(FieldIssue) -> [IPAMRoute] {
        switch object["routes"] {
        case nil, .null: return []
        case .array(let items):
            var result: [IPAMRoute] = []
            for (index, item) in items.enumerated() {
                let path = "spec.ipam.routes[\(index)]"
                guard let fields = item.objectValue else { throw FieldIssue(path, "must be an object with dst and gw") }
                guard let dst = fields["dst"]?.stringValue else { throw FieldIssue(path + ".dst", "is required") }
                result.append(IPAMRoute(dst: dst, gw: fields["gw"]?.stringValue))
            }
            return result
        case let other?:
            throw FieldIssue("spec.ipam.routes", "must be a list of {dst, gw}, not a \(other.typeName)")
        }
    }
}
