/// The `multi-nic` NetConf a NetworkAttachmentDefinition carries: written by the renderer, decoded by the CNI
/// binaries. Keys it does not model (what Multus adds: `runtimeConfig`, `args`, `prevResult`, …) are kept in
/// ``extra`` and written back unchanged. A NetConf is written by namespace users: nothing here names a file, a
/// socket or a program.
public struct NADConfig: Codable, Sendable, Hashable {
    public var cniVersion: String
    /// The network (NAD) name: the daemon's `def`.
    public var name: String
    /// `multi-nic`.
    public var type: String
    /// The IPAM section as the network gave it (multi-nic-ipam or any other IPAM's own object).
    public let ipam: JSONValue?
    /// The static routes of a multi-nic-ipam section (`ipam.routes`), read once with `ipam` (so never out of step).
    public let routes: [PodRoute]
    public var dns: DNSConfig?
    /// The main plugin's rendered config (`type`, `mode`, `mtu`, …).
    public var plugin: [String: JSONValue]
    public var subnet: String
    public var masterNets: [String]
    /// True when the daemon allocates one address per NIC.
    public var multiNICIPAM: Bool
    /// Upstream-compatible daemon address fields; the CNI binaries use their local socket.
    public var daemonIP: String?
    public var daemonPort: Int?
    public var attachPolicy: AttachPolicySpec?
    /// Device-plugin resource names of the devices the pod is given (SR-IOV VFs).
    public var resourceNames: [String]
    /// `false`: the network keeps the delegate path (one delegate plugin exec per NIC) even where the daemon could
    /// configure the NICs itself; nil or true: native attach where the backend and the node can.
    public var nativeAttach: Bool?
    /// Every key this type does not model, carried through.
    public var extra: [String: JSONValue]

    /// The keys this type reads and writes itself.
    public static let modelledKeys: Set<String> = [
        "cniVersion", "name", "type", "ipam", "dns", "plugin", "subnet", "masterNets", "multiNICIPAM", "daemonIP",
        "daemonPort", "attachPolicy", "resourceNames", "nativeAttach",
    ]

    public init(cniVersion: String, name: String, type: String = "multi-nic", ipam: JSONValue? = nil,
                dns: DNSConfig? = nil, plugin: [String: JSONValue] = [:], subnet: String = "", masterNets: [String] = [],
                multiNICIPAM: Bool = true, daemonIP: String? = nil, daemonPort: Int? = nil,
                attachPolicy: AttachPolicySpec? = nil, resourceNames: [String] = [], nativeAttach: Bool? = nil,
                extra: [String: JSONValue] = [:]) throws(FieldIssue) {
        self.cniVersion = cniVersion
        self.name = name
        self.type = type
        self.ipam = ipam
        self.routes = try Self.routes(in: ipam)
        self.dns = dns
        self.plugin = plugin
        self.subnet = subnet
        self.masterNets = masterNets
        self.multiNICIPAM = multiNICIPAM
        self.daemonIP = daemonIP
        self.daemonPort = daemonPort
        self.attachPolicy = attachPolicy
        self.resourceNames = resourceNames
        self.nativeAttach = nativeAttach
        self.extra = extra.filter { !Self.modelledKeys.contains($0.key) }
    }

    /// Reads a NetConf object; the first problem is thrown, naming its key.
    public init(json: JSONValue) throws(FieldIssue) {
        guard let object = json.objectValue else { throw FieldIssue("(root)", "must be a JSON object, not a \(json.typeName)") }
        let reader = JSONFields(object: object, prefix: "")
        let ipam = object["ipam"].flatMap { $0 == .null ? nil : $0 }
        if let ipam, ipam.objectValue == nil { throw FieldIssue("ipam", "must be an object, not a \(ipam.typeName)") }
        let declared = ipam?.objectValue?["type"]?.stringValue
        let multiNICIPAM = try reader.bool("multiNICIPAM") ?? (ipam == nil || declared == IPAMConfig.multiNICType)
        if !multiNICIPAM && declared == nil {
            throw FieldIssue("ipam.type", "is required when multiNICIPAM is false")
        }
        var policy: AttachPolicySpec?
        if let fields = try reader.object("attachPolicy") {
            let nested = JSONFields(object: fields, prefix: "attachPolicy.")
            policy = AttachPolicySpec(strategy: try nested.string("strategy") ?? "none", target: try nested.string("target"))
        }
        var dns: DNSConfig?
        if let value = object["dns"], value != .null {
            do {
                dns = try value.decode(DNSConfig.self)
            } catch {
                throw FieldIssue("dns", "must be {nameservers, domain, search, options} with string values")
            }
        }
        let port = try reader.integer("daemonPort")
        if let port, !(0...65535).contains(port) { throw FieldIssue("daemonPort", "\(port) is not a TCP port") }
        try self.init(
            cniVersion: try reader.string("cniVersion") ?? "", name: try reader.string("name") ?? "",
            type: try reader.string("type") ?? "multi-nic", ipam: ipam, dns: dns,
            plugin: try reader.object("plugin") ?? [:], subnet: try reader.string("subnet") ?? "",
            masterNets: try reader.strings("masterNets"), multiNICIPAM: multiNICIPAM,
            daemonIP: try reader.string("daemonIP"), daemonPort: port, attachPolicy: policy,
            resourceNames: try reader.strings("resourceNames"), nativeAttach: try reader.bool("nativeAttach"), extra: object)
    }

    /// The NetConf as a JSON object (keys sorted when printed).
    public var json: JSONValue {
        var object = extra
        object["cniVersion"] = .string(cniVersion)
        object["name"] = .string(name)
        object["type"] = .string(type)
        if let ipam { object["ipam"] = ipam }
        if let dns { object["dns"] = (try? JSONValue.reencode(dns)) ?? .object([:]) }
        object["plugin"] = .object(plugin)
        object["subnet"] = .string(subnet)
        object["masterNets"] = .array(masterNets.map(JSONValue.string))
        object["multiNICIPAM"] = .bool(multiNICIPAM)
        if let daemonIP { object["daemonIP"] = .string(daemonIP) }
        if let daemonPort { object["daemonPort"] = .integer(Int64(daemonPort)) }
        if let attachPolicy {
            var fields: [String: JSONValue] = ["strategy": .string(attachPolicy.strategy)]
            if let target = attachPolicy.target { fields["target"] = .string(target) }
            object["attachPolicy"] = .object(fields)
        }
        if !resourceNames.isEmpty { object["resourceNames"] = .array(resourceNames.map(JSONValue.string)) }
        if let nativeAttach { object["nativeAttach"] = .bool(nativeAttach) }
        return .object(object)
    }

    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        try self.init(json: value)
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }

    /// `ipam.routes` of a multi-nic-ipam section; other IPAMs apply their own routes.
    private static func routes(in ipam: JSONValue?) throws(FieldIssue) -> [PodRoute] {
        guard let object = ipam?.objectValue, object["type"]?.stringValue == IPAMConfig.multiNICType else { return [] }
        guard let items = object["routes"], items != .null else { return [] }
        guard let list = items.arrayValue else { throw FieldIssue("ipam.routes", "must be a list of {dst, gw}") }
        var routes: [PodRoute] = []
        for (index, item) in list.enumerated() {
            let fields = JSONFields(object: item.objectValue ?? [:], prefix: "ipam.routes[\(index)].")
            guard let dst = try fields.string("dst") else { throw FieldIssue("ipam.routes[\(index)].dst", "is required") }
            let gw = try fields.string("gw")
            guard let route = PodRoute(dst: dst, gw: gw) else {
                throw FieldIssue("ipam.routes[\(index)]", "\(LogText.escaped(dst, limit: 64)) via \(LogText.escaped(gw ?? "-", limit: 64))"
                    + " is not a CIDR and an optional gateway address")
            }
            routes.append(route)
        }
        return routes
    }
}

/// Typed reads of one JSON object's keys; a key of the wrong type is an issue naming it.
struct JSONFields {
    let object: [String: JSONValue]
    let prefix: String

    func string(_ key: String) throws(FieldIssue) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw FieldIssue(prefix + key, "must be a string, not a \(other.typeName)")
        }
    }

    func bool(_ key: String) throws(FieldIssue) -> Bool? {
        switch object[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw FieldIssue(prefix + key, "must be a boolean, not a \(other.typeName)")
        }
    }

    func integer(_ key: String) throws(FieldIssue) -> Int? {
        switch object[key] {
        case nil, .null?: return nil
        case .integer(let number)? where abs(number) < 1 << 31: return Int(number)
        case let other?: throw FieldIssue(prefix + key, "must be an integer, not \(other.typeName) \(other)")
        }
    }

    func object(_ key: String) throws(FieldIssue) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let fields)?: return fields
        case let other?: throw FieldIssue(prefix + key, "must be an object, not a \(other.typeName)")
        }
    }

    func strings(_ key: String) throws(FieldIssue) -> [String] {
        switch object[key] {
        case nil, .null?: return []
        case .array(let items)?:
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue else {
                    throw FieldIssue("\(prefix)\(key)[\(index)]", "must be a string, not a \(item.typeName)")
                }
                result.append(text)
            }
            return result
        case let other?: throw FieldIssue(prefix + key, "must be a list of strings, not a \(other.typeName)")
        }
    }
}
