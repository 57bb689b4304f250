#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// A CNI result, held in the 1.x shape and printed in whatever version was asked for.
public struct CNIResult: Sendable, Hashable {
    public struct Interface: Sendable, Hashable {
        public var name: String
        public var mac: String?
        public var sandbox: String?

        public init(name: String, mac: String? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.sandbox = sandbox
        }
    }

    public struct IPConfig: Sendable, Hashable {
        /// Address with prefix, e.g. `192.168.0.65/18`.
        public var address: IPNetwork
        public var gateway: IPAddress?
        /// Index into `interfaces`.
        public var interface: Int?

        public init(address: IPNetwork, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Sendable, Hashable {
        public var dst: IPNetwork
        public var gw: IPAddress?

        public init(dst: IPNetwork, gw: IPAddress? = nil) {
            self.dst = dst
            self.gw = gw
        }
    }

    public var interfaces: [Interface] = []
    public var ips: [IPConfig] = []
    public var routes: [Route] = []
    public var dns: JSONValue?

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: JSONValue? = nil) {
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    /// Reads a delegate's result (any version ≥ 0.3.0). Unknown fields are ignored.
    public static func parse(_ json: JSONValue) throws(CNIError) -> CNIResult {
        guard let object = json.objectValue else {
            throw CNIError(CNIError.decodingFailure, "delegate result is not a JSON object")
        }
        var result = CNIResult()
        for item in arrayValue(object["interfaces"]) {
            guard let fields = item.objectValue, let name = fields["name"]?.stringValue else { continue }
            result.interfaces.append(Interface(name: name, mac: fields["mac"]?.stringValue, sandbox: fields["sandbox"]?.stringValue))
        }
        for item in arrayValue(object["ips"]) {
            guard let fields = item.objectValue, let text = fields["address"]?.stringValue, let address = IPNetwork(text) else {
                throw CNIError(CNIError.decodingFailure, "delegate result has an ips entry without a valid address")
            }
            var interface: Int?
            if case .integer(let index)? = fields["interface"] { interface = Int(index) }
            result.ips.append(IPConfig(address: address, gateway: fields["gateway"]?.stringValue.flatMap { IPAddress($0) },
                                       interface: interface))
        }
        for item in arrayValue(object["routes"]) {
            guard let fields = item.objectValue, let dst = fields["dst"]?.stringValue.flatMap({ IPNetwork($0) }) else { continue }
            result.routes.append(Route(dst: dst, gw: fields["gw"]?.stringValue.flatMap { IPAddress($0) }))
        }
        result.dns = object["dns"]
        return result
    }

    private static func arrayValue(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    /// Appends another result (one NIC's) and renumbers its interface indices.
    public mutating func append(_ other: CNIResult) {
        let offset = interfaces.count
        interfaces += other.interfaces
        ips += other.ips.map { ip in
            var copy = ip
            copy.interface = ip.interface.map { $0 + offset }
            return copy
        }
        routes += other.routes
    }

    /// The result as JSON of `version`: 0.3.x/0.4.0 add `ips[].version`, 1.x do not.
    public func json(version: String) -> JSONValue {
        var object: [String: JSONValue] = ["cniVersion": .string(version)]
        object["interfaces"] = .array(interfaces.map { interface in
            var fields: [String: JSONValue] = ["name": .string(interface.name)]
            if let mac = interface.mac { fields["mac"] = .string(mac) }
            if let sandbox = interface.sandbox { fields["sandbox"] = .string(sandbox) }
            return .object(fields)
        })
        object["ips"] = .array(ips.map { ip in
            var fields: [String: JSONValue] = ["address": .string(ip.address.description)]
            if let gateway = ip.gateway { fields["gateway"] = .string(gateway.description) }
            if let interface = ip.interface { fields["interface"] = .integer(Int64(interface)) }
            if CNIVersion.usesIPVersionField(version) { fields["version"] = .string(ip.address.family == .v4 ? "4" : "6") }
            return .object(fields)
        })
        if !routes.isEmpty {
            object["routes"] = .array(routes.map { route in
                var fields: [String: JSONValue] = ["dst": .string(route.dst.description)]
                if let gw = route.gw { fields["gw"] = .string(gw.description) }
                return .object(fields)
            })
        }
        object["dns"] = dns ?? .object([:])
        return .object(object)
    }
}
