import MultiNICCore
import MultiNICDRA
import MultiNICIPAM
import MultiNICKube

/// Where the daemon reads the ResourceClaims the kubelet asks it to prepare.
public protocol ResourceClaimSource: Sendable {
    /// The claim object, nil when it does not exist.
    func resourceClaim(namespace: String, name: String) async throws(DaemonError) -> JSONValue?
    /// Replaces the claim's `status.devices` entries of `driver` with `devices` (KEP-4817), keeping other drivers'.
    func writeDeviceStatus(namespace: String, name: String, driver: String, devices: [JSONValue]) async throws(DaemonError)
}

/// ``ResourceClaimSource`` over the API.
public struct KubeResourceClaimSource: ResourceClaimSource {
    let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    func path(_ namespace: String, _ name: String) -> String {
        "/apis/resource.k8s.io/v1/namespaces/\(KubePaths.escape(namespace))/resourceclaims/\(KubePaths.escape(name))"
    }

    public func resourceClaim(namespace: String, name: String) async throws(DaemonError) -> JSONValue? {
        do {
            return try await client.object(at: path(namespace, name))
        } catch {
            throw .unavailable("ResourceClaim \(namespace)/\(name): \(error)")
        }
    }

    /// Read, change, write with the resourceVersion read (a list is replaced whole by a patch, and another driver may
    /// write its own entries meanwhile: a 409 reads again).
    public func writeDeviceStatus(namespace: String, name: String, driver: String, devices: [JSONValue]) async throws(DaemonError) {
        for _ in 0..<5 {
            guard var claim = try await resourceClaim(namespace: namespace, name: name)?.objectValue else { return }
            var status = claim["status"]?.objectValue ?? [:]
            let others = (status["devices"]?.arrayValue ?? []).filter { $0.objectValue?["driver"]?.stringValue != driver }
            status["devices"] = .array(others + devices)
            claim["status"] = .object(status)
            do {
                _ = try await client.call("PUT", path(namespace, name) + "/status", body: Array(JSONValue.object(claim).description.utf8))
                return
            } catch .api(409, _) {
                continue
            } catch {
                throw .unavailable("ResourceClaim \(namespace)/\(name) status: \(error)")
            }
        }
        throw .unavailable("ResourceClaim \(namespace)/\(name) status: changed by someone else five times in a row")
    }
}

/// A claim this node prepared, as far as the CNI ADD of its pod needs it (`<state>/dra-claims.json`).
public struct PreparedClaim: Codable, Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var uid: String
    /// The pod the claim is reserved for (`status.reservedFor`), whose ADD attaches the claimed NICs.
    public var podUID: String
    public var podName: String
    public var driver: String
    /// Device name → host NIC, in device-name order.
    public var devices: [PreparedNIC]

    /// Whether the claim is the pod's: the scheduler reserved it for the pod's UID (its name in the claim's namespace
    /// when the runtime passed no UID).
    func isReserved(for pod: PodRef) -> Bool {
        guard namespace == pod.namespace else { return false }
        if !pod.uid.isEmpty && !podUID.isEmpty { return pod.uid == podUID }
        return !pod.name.isEmpty && pod.name == podName
    }

    public struct PreparedNIC: Codable, Sendable, Hashable {
        public var device: String
        public var master: String
        public var network: String
        /// The ID Multus hands the pod's CNI ADD for this device (``DRADevice/multusDeviceID(pciAddress:name:)``);
        /// nil in records of older daemons.
        public var deviceID: String?
    }
}

/// The daemon as the kubelet plugin's ``DRAClaimHandler``: claims read through the daemon's
/// ``DaemonServices/resourceClaimSource``, devices of `driver`.
public struct DaemonDRAHandler: DRAClaimHandler {
    let services: DaemonServices
    let driver: String

    public init(services: DaemonServices, driver: String) {
        self.services = services
        self.driver = driver
    }

    public func prepare(namespace: String, name: String, uid: String) async -> Result<[DRAPreparedDevice], DRAClaimFailure> {
        do {
            return .success(try await services.prepareClaim(namespace: namespace, name: name, uid: uid, driver: driver))
        } catch {
            return .failure(DRAClaimFailure(error.description))
        }
    }

    public func unprepare(namespace: String, name: String, uid: String) async -> DRAClaimFailure? {
        do {
            try await services.unprepareClaim(uid: uid)
            return nil
        } catch {
            return DRAClaimFailure(error.description)
        }
    }
}

/// DRA mode: the kubelet's NodePrepareResources / NodeUnprepareResources for this driver's claims. A claim's
/// addresses — one per allocated NIC, from the pool of the network its opaque config names — are keyed by the claim's
/// UID (``AllocationKey/resourceClaimContainerID(uid:)``): durable before the answer, the same on a retry or after a
/// daemon restart, released by unprepare only.
extension DaemonServices {
    /// Prepares one claim: its allocation's devices of `driver` on this node, each with an address.
    public func prepareClaim(namespace: String, name: String, uid: String, driver: String) async throws(DaemonError) -> [DRAPreparedDevice] {
        guard let source = resourceClaimSource else { throw .unavailable("DRA mode is off on this node (multi-nicd --dra-driver)") }
        guard let claim = try await source.resourceClaim(namespace: namespace, name: name)?.objectValue else {
            throw .notFound("ResourceClaim \(namespace)/\(name) does not exist")
        }
        let actual = claim["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
        guard actual == uid else {
            throw .conflict("ResourceClaim \(namespace)/\(name) has UID \(actual), not \(uid) (deleted and made again?)")
        }
        let allocation = claim["status"]?.objectValue?["allocation"]?.objectValue?["devices"]?.objectValue ?? [:]
        let results = (allocation["results"]?.arrayValue ?? []).compactMap(\.objectValue).filter {
            $0["driver"]?.stringValue == driver && $0["pool"]?.stringValue == configuration.nodeName
        }
        guard !results.isEmpty else {
            throw .badRequest("ResourceClaim \(namespace)/\(name) allocates no device of \(driver) on \(configuration.nodeName)")
        }
        let configs = (allocation["config"]?.arrayValue ?? []).compactMap(\.objectValue)
        let nics = Dictionary(try draDevices().compactMap { device -> (String, (master: String, deviceID: String))? in
            guard case .string(let ifName)? = device.attributes["ifName"] else { return nil }
            let pci: String = if case .string(let address)? = device.attributes["pciAddress"] { address } else { "" }
            return (device.name, (ifName, DRADevice.multusDeviceID(pciAddress: pci, name: device.name)))
        }) { first, _ in first }
        var byNetwork: [String: [(request: String, device: String, master: String, deviceID: String)]] = [:]
        for result in results {
            let request = result["request"]?.stringValue ?? "", device = result["device"]?.stringValue ?? ""
            // Claim configs come after class configs: the last one that applies wins.
            let parameters = configs.last { config in
                let requests = config["requests"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return config["opaque"]?.objectValue?["driver"]?.stringValue == driver && (requests.isEmpty || requests.contains(request))
            }?["opaque"]?.objectValue?["parameters"]?.objectValue
            guard let network = parameters?["network"]?.stringValue, !network.isEmpty else {
                throw .badRequest("ResourceClaim \(namespace)/\(name), request \(request): no opaque config of \(driver) names "
                    + "the network ({\"network\": \"<MultiNicNetwork>\"})")
            }
            guard let nic = nics[device] else {
                throw .notFound("device \(device) of ResourceClaim \(namespace)/\(name) is not a NIC of \(configuration.nodeName) (any more)")
            }
            byNetwork[network, default: []].append((request, device, nic.master, nic.deviceID))
        }
        let key = AllocationKey.resourceClaimContainerID(uid: uid)
        // The pod the scheduler reserved the claim for: its ADD gets these NICs (recorded before any address).
        let consumer = (claim["status"]?.objectValue?["reservedFor"]?.arrayValue ?? []).compactMap(\.objectValue)
            .first { $0["resource"]?.stringValue == "pods" }
        let record = PreparedClaim(namespace: namespace, name: name, uid: uid, podUID: consumer?["uid"]?.stringValue ?? "",
                                   podName: consumer?["name"]?.stringValue ?? "", driver: driver,
                                   devices: byNetwork.flatMap { network, devices in
                                       devices.map { PreparedClaim.PreparedNIC(device: $0.device, master: $0.master, network: network, deviceID: $0.deviceID) }
                                   }.sorted { $0.device < $1.device })
        // A retry finds the networks an earlier prepare did; a failure now must not take those.
        let earlier = Set(preparedLeases(uid: uid).map(\.key.network))
        try preparedClaims.change { $0[uid] = record }
        var done: [String] = []
        do throws(DaemonError) {
            for (network, devices) in byNetwork.sorted(by: { $0.key < $1.key }) {
                try checkNamespace(namespace, network: network)
                _ = try await allocateChecked(AddressRequest(network: network, pod: PodRef(namespace: namespace, name: name),
                                                             containerID: key,
                                                             slots: devices.map { .init(master: $0.master, ifName: $0.device) }))
                done.append(network)
            }
        } catch {
            for network in done where !earlier.contains(network) { _ = try? await release(network: network, containerID: key) }
            // Forgotten only when nothing of it is left (a retry that failed keeps what an earlier prepare gave).
            if preparedLeases(uid: uid).isEmpty { _ = try? preparedClaims.change { $0[uid] = nil } }
            throw error
        }
        return byNetwork.values.flatMap { $0 }.map { DRAPreparedDevice(requestNames: [$0.request], pool: configuration.nodeName, device: $0.device) }
            .sorted { $0.device < $1.device }
    }

    /// Unprepares one claim: its addresses go (nothing prepared is success).
    public func unprepareClaim(uid: String) async throws(DaemonError) {
        _ = try await releasing { () async throws(IPAMError) -> [MultiNICIPAM.Lease] in
            try await self.ipam.release(containerID: AllocationKey.resourceClaimContainerID(uid: uid))
        }
        try preparedClaims.change { $0[uid] = nil }
    }

    /// The claim prepared for `pod` with NICs of `network`, and those NICs' leases in device order. A `deviceID` from
    /// Multus names the claim first (a pod may hold several claims of this driver); the pod's UID finds it otherwise.
    /// A device ID of a claim reserved for another pod is refused: the ID comes from a NetConf, which namespace users
    /// write.
    func preparedClaim(pod: PodRef, network: String, deviceID: String?) throws(DaemonError)
        -> (claim: PreparedClaim, leases: [MultiNICIPAM.Lease])?
    {
        let claims = preparedClaims.current.values.sorted { $0.uid < $1.uid }
        guard !claims.isEmpty else { return nil }
        let state = ipam.current
        func leases(_ claim: PreparedClaim) -> [MultiNICIPAM.Lease] {
            let key = AllocationKey.resourceClaimContainerID(uid: claim.uid)
            return claim.devices.filter { $0.network == network }.compactMap { nic in
                state.leases[AllocationKey(network: network, containerID: key, ifName: nic.device)]
            }
        }
        let holders = deviceID.map { id in claims.filter { $0.devices.contains { $0.deviceID == id } } } ?? []
        if let deviceID, let named = holders.first(where: { $0.isReserved(for: pod) }) ?? holders.first {
            guard named.isReserved(for: pod) else {
                throw .forbidden("device \(LogText.escaped(deviceID, limit: 64)) belongs to ResourceClaim \(named.namespace)/\(named.name), "
                    + "which is not reserved for pod \(pod.namespace)/\(pod.name)")
            }
            let found = leases(named)
            if !found.isEmpty { return (named, found) }
            // Multus hands out a claim's device IDs in order, not by network: the pod's other claims may have it.
        }
        for claim in claims where claim.isReserved(for: pod) {
            let found = leases(claim)
            if !found.isEmpty { return (claim, found) }
        }
        return nil
    }

    /// The addresses prepared for a claim (by UID).
    public func preparedLeases(uid: String) -> [MultiNICIPAM.Lease] {
        let state = ipam.current
        return state.keys(containerID: AllocationKey.resourceClaimContainerID(uid: uid)).compactMap { state.leases[$0] }
    }
}
