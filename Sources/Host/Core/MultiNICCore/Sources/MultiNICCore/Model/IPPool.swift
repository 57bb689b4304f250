/// The addresses one host may hand out on one interface of one network. One per CIDR host entry;
/// `allocations` mirror the node's journal.
public typealias IPPool = Resource<IPPoolSpec>

/// `IPPool.spec`.
public struct IPPoolSpec: ResourceSpec {
    public static let kind = "IPPool"
    public static let plural = "ippools"

    /// Label selecting a host's pools.
    public static let hostLabel = "hostname"
    /// Label selecting a network's pools.
    public static let networkLabel = "netname"
    /// Annotation with the network's `spec.namespaces` (comma-separated): the only namespaces whose pods the daemon
    /// gives addresses from this pool. Absent: every namespace (the network targets all of them).
    public static let namespacesAnnotation = "multinic.net.cogadvisor.io/namespaces"
    /// Annotation with allocations of a taken-over cluster (a JSON array of `{pod, namespace, address}`): the node's
    /// daemon adopts each once, in the journal record that gives it the pool, before it serves an ADD from it.
    public static let adoptAnnotation = "multinic.net.cogadvisor.io/adopt"

    /// The allocations ``adoptAnnotation`` names; `nil` when there is none, an error naming the entry when it does
    /// not parse.
    public static func adoptions(of pool: IPPool) throws(FieldIssue) -> [Allocation]? {
        guard let text = pool.metadata.annotations?[adoptAnnotation] else { return nil }
        let field = "metadata.annotations[\(adoptAnnotation)]"
        guard let items = (try? JSONValue.parse(text))?.arrayValue else { throw FieldIssue(field, "must be a JSON array") }
        var result: [Allocation] = []
        for (index, item) in items.enumerated() {
            guard let object = item.objectValue, let pod = object["pod"]?.stringValue, let namespace = object["namespace"]?.stringValue,
                  let address = object["address"]?.stringValue, IPAddress(address) != nil else {
                throw FieldIssue("\(field)[\(index)]", "needs pod, namespace and an IP address")
            }
            result.append(Allocation(pod: pod, namespace: namespace, index: 0, address: address))
        }
        return result
    }

    /// The ``adoptAnnotation`` value for allocations.
    public static func adoptAnnotationValue(_ allocations: [Allocation]) -> String {
        JSONValue.array(allocations.map {
            .object(["pod": .string($0.pod), "namespace": .string($0.namespace), "address": .string($0.address)])
        }).description
    }

    /// What makes a pool unusable on a node, or `nil`: names that are not ``SafeName``s (they become file names and
    /// log fields), a pod prefix outside the block's family, or fewer than 2 usable
    /// addresses (a /31 or /32, a /127 or /128). The controller checks before it pushes, the daemon when pools arrive
    /// (refused) and when its journal is replayed (skipped).
    public static func problem(name: String, network: String, interfaceName: String, podCIDR: IPNetwork, podPrefix: Int) -> String? {
        if let problem = SafeName.problem(name) { return "pool name \(problem)" }
        if let problem = SafeName.problem(network) { return "network name \(problem)" }
        if let problem = SafeName.problem(interfaceName) { return "interface name \(problem)" }
        let bits = podCIDR.family == .v4 ? 32 : 128
        guard (1...bits).contains(podPrefix) else { return "pod prefix /\(podPrefix) must be between /1 and /\(bits)" }
        let widest = podCIDR.family == .v4 ? 30 : 126
        guard podCIDR.prefixLength <= widest else {
            return "block \(podCIDR) has fewer than 2 usable addresses (at most /\(widest) for IPv\(podCIDR.family == .v4 ? 4 : 6))"
        }
        return nil
    }

    /// ``problem(name:network:interfaceName:podCIDR:podPrefix:)`` of an IPPool resource (CIDRs that do not parse too).
    public static func problem(of pool: IPPool) -> String? {
        guard let podCIDR = IPNetwork(pool.spec.podCIDR), let vlan = IPNetwork(pool.spec.vlanCIDR) else {
            return "podCIDR \(LogText.escaped(pool.spec.podCIDR, limit: 64)) or vlanCIDR \(LogText.escaped(pool.spec.vlanCIDR, limit: 64))"
                + " is not a CIDR"
        }
        return problem(name: pool.metadata.name, network: pool.spec.netAttachDef, interfaceName: pool.spec.interfaceName,
                       podCIDR: podCIDR, podPrefix: vlan.prefixLength)
    }

    /// The namespaces an IPPool serves (``namespacesAnnotation``); `nil` for every namespace.
    public static func namespaces(of pool: IPPool) -> [String]? {
        guard let text = pool.metadata.annotations?[namespacesAnnotation] else { return nil }
        return text.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
    }

    /// The block this host/interface allocates from.
    public var podCIDR: String
    /// The interface block; its prefix length is the pod address's mask.
    public var vlanCIDR: String
    /// Network name.
    public var netAttachDef: String
    public var hostName: String
    public var interfaceName: String
    /// Excluded blocks strictly inside `podCIDR`.
    public var excludes: [String]
    public var allocations: [Allocation]
    /// The cloud whose API must know each pod address of this pool (``CloudAddressing``): `aws` (the node daemon
    /// assigns it to the ENI behind the NIC). Absent for networks the fabric routes by itself.
    public var cloudProvider: String?

    public init(podCIDR: String, vlanCIDR: String, netAttachDef: String, hostName: String, interfaceName: String,
                excludes: [String] = [], allocations: [Allocation] = [], cloudProvider: String? = nil) {
        self.podCIDR = podCIDR
        self.vlanCIDR = vlanCIDR
        self.netAttachDef = netAttachDef
        self.hostName = hostName
        self.interfaceName = interfaceName
        self.excludes = excludes
        self.allocations = allocations
        self.cloudProvider = cloudProvider
    }
}

/// One handed-out address. Keyed by (network, containerID, ifName); pod fields are kept for GC and display.
public struct Allocation: Codable, Sendable, Hashable {
    public var pod: String
    public var namespace: String
    /// Offset from the podCIDR's network address.
    public var index: Int
    public var address: String
    public var containerID: String?
    public var ifName: String?
    public var podUID: String?

    public init(pod: String, namespace: String, index: Int, address: String, containerID: String? = nil,
                ifName: String? = nil, podUID: String? = nil) {
        self.pod = pod
        self.namespace = namespace
        self.index = index
        self.address = address
        self.containerID = containerID
        self.ifName = ifName
        self.podUID = podUID
    }
}
