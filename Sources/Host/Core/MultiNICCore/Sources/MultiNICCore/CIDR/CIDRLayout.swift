/// Why a CIDR cannot be computed.
public enum CIDRError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The network (or the CIDR config) is invalid; every issue names its field.
    case invalidNetwork([FieldIssue])
    /// More interface networks than interface blocks (after skipping excluded blocks).
    case interfaceIndexOverflow(netAddress: String, capacity: UInt64)
    /// A field frozen at CIDR creation differs from the previous CIDR.
    case immutableChange(field: String, previous: String, current: String)
    /// The previous CIDR cannot be read back.
    case corruptPrevious(FieldIssue)

    public var description: String {
        switch self {
        case .invalidNetwork(let issues):
            issues.map(\.description).joined(separator: "\n")
        case .interfaceIndexOverflow(let net, let capacity):
            "spec.masterNets: no interface block left for \(net): interfaceBlock gives \(capacity) block(s)"
                + " (minus excluded ones); raise interfaceBlock or list fewer masterNets"
        case .immutableChange(let field, let previous, let current):
            "\(field): cannot change from \(previous) to \(current) while the CIDR exists (indices would move);"
                + " delete and re-create the network to change it"
        case .corruptPrevious(let issue):
            "previous CIDR: \(issue)"
        }
    }
}

/// The parsed, checked inputs of the CIDR computation.
public struct CIDRLayout: Sendable, Hashable {
    /// The global subnet (normalised), or `nil` in host-subnet mode.
    public let subnet: IPNetwork?
    public let interfaceBlock: Int
    public let hostBlock: Int
    /// Allowed interface networks in order; empty allows every discovered network.
    public let masterNets: [IPNetwork]
    /// Excluded blocks (normalised).
    public let excludes: [IPNetwork]

    /// Parses a CIDR config. A config that a validated network produced always parses.
    public init(config: CIDRConfig) throws(CIDRError) {
        var issues: [FieldIssue] = []
        if config.subnet.isEmpty {
            subnet = nil
        } else {
            switch IPNetwork.parse(config.subnet) {
            case .success(let network): subnet = network.normalized
            case .failure(let error):
                subnet = nil
                issues.append(FieldIssue("spec.subnet", error.description))
            }
        }
        interfaceBlock = config.interfaceBlock
        hostBlock = config.hostBlock
        var nets: [IPNetwork] = []
        for (index, text) in config.masterNets.enumerated() {
            switch IPNetwork.parse(text) {
            case .success(let network): nets.append(network.normalized)
            case .failure(let error): issues.append(FieldIssue("spec.masterNets[\(index)]", error.description))
            }
        }
        masterNets = nets
        switch BlockMath.parseExcludes(config.excludeCIDRs ?? []) {
        case .success(let parsed): excludes = parsed
        case .failure(let issue):
            excludes = []
            issues.append(issue)
        }
        issues += NetworkLimits.blockIssues(hostBlock: hostBlock, interfaceBlock: interfaceBlock)
        guard issues.isEmpty else { throw .invalidNetwork(issues) }
    }

    /// The interface index space of the global subnet (subnet mode only).
    var interfaceSpace: IndexSpace? {
        subnet.map { IndexSpace(base: $0, bits: interfaceBlock, excludes: excludes) }
    }

    /// The host index space of one interface block.
    func hostSpace(of vlanCIDR: IPNetwork) -> IndexSpace {
        IndexSpace(base: vlanCIDR, bits: hostBlock, excludes: excludes)
    }
}

/// Limits on block sizes; beyond them the index arithmetic and any real cluster stop making sense.
public enum NetworkLimits {
    /// Largest hostBlock (2^32 hosts per interface).
    public static let maxHostBlock = 32
    /// Largest interfaceBlock (2^16 interface networks).
    public static let maxInterfaceBlock = 16
    /// Fewest address bits a pod block must keep (network + broadcast + at least two pods for IPv4).
    public static let minPodBits = 2

    /// The one range rule for the block sizes: an issue per block size out of range.
    public static func blockIssues(hostBlock: Int, interfaceBlock: Int) -> [FieldIssue] {
        var issues: [FieldIssue] = []
        if !(0...maxHostBlock).contains(hostBlock) {
            issues.append(FieldIssue("spec.ipam.hostBlock", "\(hostBlock) is out of range 0…\(maxHostBlock)"))
        }
        if !(0...maxInterfaceBlock).contains(interfaceBlock) {
            issues.append(FieldIssue("spec.ipam.interfaceBlock", "\(interfaceBlock) is out of range 0…\(maxInterfaceBlock)"))
        }
        return issues
    }
}
