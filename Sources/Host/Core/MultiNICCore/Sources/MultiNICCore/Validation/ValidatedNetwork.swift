/// A MultiNicNetwork that passed ``NetworkValidator``: the typed form the CIDR engine, the renderer, the route plan
/// and the controller read. Only the validator makes one, so nothing downstream parses `spec.ipam` or checks a field
/// again.
public struct ValidatedNetwork: Sendable, Hashable {
    /// The resource as the user wrote it (metadata, status and the plugin arguments the backend reads).
    public let resource: MultiNicNetwork
    /// The global pod subnet, normalized; `nil` in host-subnet mode (`subnet: ""`).
    public let subnet: IPNetwork?
    /// The allowed host networks in interface-index order; empty means every discovered network.
    public let masterNets: [IPNetwork]
    /// The IPAM section, typed.
    public let ipam: IPAMConfig
    /// The IPAM section as the JSON object the NAD carries.
    public let ipamJSON: JSONValue
    /// `spec.ipam.routes`, typed (multi-nic-ipam only).
    public let routes: [PodRoute]
    /// Non-blocking issues found on the way.
    public let warnings: [FieldIssue]

    /// The network's name.
    public var name: String { resource.metadata.name }
    /// `spec.plugin`; its `cniVersion` is one of ``CNIVersion/supported``.
    public var plugin: PluginSpec { resource.spec.plugin }
    /// The CNI version the NAD and the pod results use.
    public var cniVersion: String { plugin.cniVersion }
    /// `nil` means strategy `none`.
    public var attachPolicy: AttachPolicySpec? { resource.spec.attachPolicy }
    /// Target namespaces; empty means every namespace.
    public var namespaces: [String] { resource.spec.namespaces ?? [] }
    /// The multi-nic-ipam config, or `nil` for a passthrough IPAM.
    public var multiNICIPAM: MultiNICIPAMConfig? {
        if case .multiNIC(let config) = ipam { return config }
        return nil
    }
    /// l2 when the IPAM section does not say (and for any other IPAM).
    public var vlanMode: VLANMode { multiNICIPAM?.vlanMode ?? .l2 }
    /// True when one IPAM call returns an address per NIC: the explicit flag, else whether the IPAM is multi-nic-ipam.
    public var usesMultiNICIPAM: Bool { resource.spec.multiNICIPAM ?? (multiNICIPAM != nil) }

    init(resource: MultiNicNetwork, subnet: IPNetwork?, masterNets: [IPNetwork], ipam: IPAMConfig, ipamJSON: JSONValue,
         routes: [PodRoute], warnings: [FieldIssue]) {
        self.resource = resource
        self.subnet = subnet
        self.masterNets = masterNets
        self.ipam = ipam
        self.ipamJSON = ipamJSON
        self.routes = routes
        self.warnings = warnings
    }
}

/// Why a network cannot be used: every error the validator found, each naming its field.
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var report: ValidationReport

    public init(report: ValidationReport) {
        self.report = report
    }

    public var description: String { report.errors.map(\.description).joined(separator: "\n") }
}

/// A static pod route of `spec.ipam.routes`, typed. On the wire it is CNI's `{"dst": CIDR, "gw": address}`; decoding
/// checks both fields, so a route that decodes is usable.
public struct PodRoute: Codable, Sendable, Hashable, CustomStringConvertible {
    public var destination: IPNetwork
    /// The next hop; `nil` for a route through the interface itself.
    public var gateway: IPAddress?

    public init(destination: IPNetwork, gateway: IPAddress? = nil) {
        self.destination = destination
        self.gateway = gateway
    }

    /// The typed form of CNI's `dst` and `gw` strings (an empty `gw` is none); `nil` when a field is not an address.
    public init?(dst: String, gw: String?) {
        guard let destination = IPNetwork(dst) else { return nil }
        let gateway: IPAddress?
        if let gw, !gw.isEmpty {
            guard let address = IPAddress(gw) else { return nil }
            gateway = address
        } else {
            gateway = nil
        }
        self.init(destination: destination.normalized, gateway: gateway)
    }

    private enum CodingKeys: String, CodingKey {
        case dst, gw
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let dst = try container.decode(String.self, forKey: .dst)
        let gw = try container.decodeIfPresent(String.self, forKey: .gw)
        guard IPNetwork(dst) != nil else {
            throw DecodingError.dataCorruptedError(forKey: .dst, in: container, debugDescription: "not a CIDR")
        }
        guard let route = PodRoute(dst: dst, gw: gw) else {
            throw DecodingError.dataCorruptedError(forKey: .gw, in: container, debugDescription: "not an IP address")
        }
        self = route
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(destination.description, forKey: .dst)
        try container.encodeIfPresent(gateway?.description, forKey: .gw)
    }

    public var description: String { "\(destination)" + (gateway.map { " via \($0)" } ?? "") }

    /// The metric of this route on NIC `position` of a pod: lower positions are preferred, so one destination over
    /// several NICs is several routes, never a clash.
    public static func metric(position: Int) -> UInt32 { 100 + UInt32(clamping: max(position, 0)) }

    /// Whether a pod interface with `address` (the pod block's prefix) carries this route: a route without a gateway
    /// goes on every interface; one with a gateway only where the gateway is on the link.
    public func applies(to address: IPNetwork) -> Bool {
        guard let gateway else { return true }
        return gateway.family == address.family && address.normalized.contains(gateway)
    }
}
