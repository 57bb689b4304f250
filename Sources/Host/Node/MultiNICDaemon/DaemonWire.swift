import MultiNICCore
import MultiNICIPAM
import MultiNICNetlink

/// The HTTP edge's conversions: request bodies (upstream's and MultiNIC's) to the domain types ``DaemonServices``
/// takes, checked once here; domain results to answer bodies.
enum DaemonWire {
    /// The largest NUMA node number a GPU map may name (Linux's `MAX_NUMNODES` is at most 1024).
    static let maximumNUMANode = 1023
    /// The most GPUs one NUMA node may be said to hold.
    static let maximumGPUsPerNode = 4096

    // MARK: - Requests

    static func query(_ wire: SelectRequest) throws(DaemonError) -> NICQuery {
        try query(network: wire.def, pod: PodRef(namespace: wire.namespace, name: wire.pod, uid: wire.podUID ?? ""),
                  masterNets: wire.masterNets, args: wire.args, policy: wire.attachPolicy, resourceNames: wire.resourceNames,
                  gpusPerNUMA: wire.gpusPerNUMA)
    }

    static func attachment(_ wire: AttachRequest) throws(DaemonError) -> AttachmentRequest {
        guard CNIVersion.supported.contains(wire.cniVersion) else {
            throw .badRequest("cniVersion: \(LogText.escaped(wire.cniVersion, limit: 16)) is not one of "
                + CNIVersion.supported.joined(separator: ", "))
        }
        guard !wire.containerID.isEmpty else { throw .badRequest("containerID is required") }
        guard !wire.ifName.isEmpty else { throw .badRequest("ifName is required") }
        let query = try query(network: wire.network, pod: PodRef(namespace: wire.namespace, name: wire.pod, uid: wire.podUID ?? ""),
                              masterNets: wire.masterNets, args: wire.args, policy: wire.attachPolicy,
                              resourceNames: wire.resourceNames, gpusPerNUMA: wire.gpusPerNUMA)
        if let deviceID = wire.deviceID, deviceID.isEmpty || deviceID.utf8.count > 253
            || !deviceID.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }) {
            throw .badRequest("deviceID: \(LogText.escaped(deviceID, limit: 64)) is not a device ID (1-253 printable ASCII characters)")
        }
        // A path the daemon will not open keeps the delegate path (the reference plugins judge it themselves).
        let netns = wire.netns.flatMap { wire.nativeAttach != false && NetworkNamespacePath.isAcceptable($0) ? $0 : nil }
        return AttachmentRequest(query: query, containerID: wire.containerID, ifName: wire.ifName, cniVersion: wire.cniVersion,
                                 plugin: wire.plugin, routes: wire.routes ?? [], delegatedIPAM: wire.delegatedIPAM, netns: netns,
                                 deviceID: wire.deviceID)
    }

    static func detachment(_ wire: DetachRequest) -> DetachmentRequest {
        DetachmentRequest(network: wire.network, containerID: wire.containerID, attachment: wire.ifName,
                          cniVersion: wire.cniVersion, plugin: wire.plugin,
                          pod: wire.pod.map { PodRef(namespace: wire.namespace ?? "", name: $0) },
                          netns: wire.netns.flatMap { wire.nativeAttach != false && NetworkNamespacePath.isAcceptable($0) ? $0 : nil })
    }

    /// Upstream's `/allocate`: one address per master; the pod interfaces default to the masters' names, the
    /// container to the pod's namespace/name (upstream clients send neither).
    static func addresses(_ wire: AllocateRequest) throws(DaemonError) -> AddressRequest {
        let masters = wire.masters ?? []
        guard !masters.isEmpty else { throw .badRequest("masters: at least one host NIC is required") }
        if let ifNames = wire.ifNames, ifNames.count != masters.count {
            throw .badRequest("ifNames: \(ifNames.count) names for \(masters.count) masters")
        }
        let slots = masters.enumerated().map { AddressRequest.Slot(master: $1, ifName: wire.ifNames?[$0] ?? $1) }
        return AddressRequest(network: wire.def, pod: PodRef(namespace: wire.namespace, name: wire.pod, uid: wire.podUID ?? ""),
                              containerID: containerID(wire), slots: slots)
    }

    static func containerID(_ wire: AllocateRequest) -> String {
        wire.containerID ?? AllocationKey.podContainerID(namespace: wire.namespace, name: wire.pod)
    }

    static func validKeys(_ wire: GCRequest) -> Set<AllocationKey> {
        Set(wire.validAttachments.map { AllocationKey(network: wire.network, containerID: $0.containerID, ifName: $0.ifname) })
    }

    /// `/addl3`'s body: the network's name, its subnet (the rule's source) and its routes.
    static func networkRoutes(_ wire: L3Request) throws(DaemonError) -> (name: String, subnet: IPNetwork, routes: [DesiredRoute]) {
        guard !wire.name.isEmpty else { throw .badRequest("name: the network name is required") }
        guard let subnet = IPNetwork(wire.subnet) else {
            throw .badRequest("subnet: \"\(LogText.escaped(wire.subnet, limit: 64))\" is not a CIDR")
        }
        var routes: [DesiredRoute] = []
        for (index, route) in wire.routes.enumerated() { routes.append(try desiredRoute(route, field: "routes[\(index)]")) }
        return (wire.name, subnet.normalized, routes)
    }

    static func desiredRoute(_ route: L3Route, field: String = "body") throws(DaemonError) -> DesiredRoute {
        guard let destination = IPNetwork(route.net) else {
            throw .badRequest("\(field).net: \"\(LogText.escaped(route.net, limit: 64))\" is not a CIDR")
        }
        guard let gateway = IPAddress(route.via) else {
            throw .badRequest("\(field).via: \"\(LogText.escaped(route.via, limit: 64))\" is not an address")
        }
        guard !route.iface.isEmpty else { throw .badRequest("\(field).iface is required") }
        return DesiredRoute(destination: destination.normalized, gateway: gateway, interfaceName: route.iface)
    }

    private static func query(network: String, pod: PodRef, masterNets: [String]?, args: SelectArgs?,
                              policy: AttachPolicySpec?, resourceNames: [String]?,
                              gpusPerNUMA: [String: Int]?) throws(DaemonError) -> NICQuery {
        guard !network.isEmpty else { throw .badRequest("network: the network name is required") }
        if let nics = args?.nics, nics < 0 { throw .badRequest("args.nics: \(nics) is negative") }
        let request = PodRequest(nics: args?.nics, masters: args?.masters ?? [], deviceClass: args?.class, target: args?.target)
        return NICQuery(network: network, pod: pod, masterNets: masterNets ?? [], request: request, policy: policy,
                        resourceNames: resourceNames ?? [], gpusPerNUMA: try gpuMap(gpusPerNUMA ?? [:]))
    }

    /// `{"0": 2}` → `[0: 2]`; a key that is not a NUMA node number or a count out of range is refused, naming it.
    static func gpuMap(_ wire: [String: Int]) throws(DaemonError) -> [Int: Int] {
        var map: [Int: Int] = [:]
        for (key, count) in wire.sorted(by: { $0.key < $1.key }) {
            guard key.utf8.count <= 4, key.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let node = Int(key),
                  (0...maximumNUMANode).contains(node) else {
                throw .badRequest("gpusPerNUMA.\(LogText.escaped(key, limit: 16)): not a NUMA node number (0-\(maximumNUMANode))")
            }
            guard (0...maximumGPUsPerNode).contains(count) else {
                throw .badRequest("gpusPerNUMA.\(node): \(count) is not a GPU count (0-\(maximumGPUsPerNode))")
            }
            map[node, default: 0] += count
        }
        return map
    }

    // MARK: - Answers

    /// Upstream's `{interface, ip, block}` for a lease.
    static func allocation(_ lease: Lease) -> IPAllocation {
        IPAllocation(interface: lease.interfaceName, ip: lease.address.description, block: String(lease.prefixLength),
                     ifName: lease.key.ifName)
    }

    static func allocations(_ leases: [Lease]) -> [IPAllocation] { leases.map(allocation) }

    static func selection(_ chosen: [ChosenNIC], devices podDevices: PodDeviceSet? = nil) -> SelectResponse {
        let devices = chosen.compactMap(\.deviceID)
        return SelectResponse(deviceIDs: devices.count == chosen.count ? devices : [], masters: chosen.map(\.master),
                              reasons: chosen.map(\.reason), podDevices: podDevices)
    }
}
