import MultiNICCore
import MultiNICDRA
import MultiNICIPAM
import MultiNICKube

/// Where the daemon reads the ResourceClaims the kubelet asks it to prepare.
public protocol ResourceClaimSource: Sendable {
    /// The claim object, nil when it does not exist.
    func resourceClaim(namespace: String, name: String) async throws(DaemonError) -> JSONValue?
}

/// ``ResourceClaimSource`` over the API.
public struct KubeResourceClaimSource: ResourceClaimSource {
    let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    public func resourceClaim(namespace: String, name: String) async throws(DaemonError) -> JSONValue? {
        let path = "/apis/resource.k8s.io/v1/namespaces/\(KubePaths.escape(namespace))/resourceclaims/\(KubePaths.escape(name))"
        do {
            return try await client.object(at: path)
        } catch {
            throw .unavailable("ResourceClaim \(namespace)/\(name): \(error)")
        }
    }
}

/// The daemon as the kubelet plugin's ``DRAClaimHandler``: claims read through `source`, devices of `driver`.
public struct DaemonDRAHandler: DRAClaimHandler {
    let services: DaemonServices
    let source: any ResourceClaimSource
    let driver: String

    public init(services: DaemonServices, source: any ResourceClaimSource, driver: String) {
        self.services = services
        self.source = source
        self.driver = driver
    }

    public func prepare(namespace: String, name: String, uid: String) async -> Result<[DRAPreparedDevice], DRAClaimFailure> {
        do {
            return .success(try await services.prepareClaim(namespace: namespace, name: name, uid: uid, driver: driver, source: source))
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
    public func prepareClaim(namespace: String, name: String, uid: String, driver: String,
                             source: any ResourceClaimSource) async throws(DaemonError) -> [DRAPreparedDevice] {
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
        let nics = Dictionary(try draDevices().compactMap { device -> (String, String)? in
            guard case .string(let ifName)? = device.attributes["ifName"] else { return nil }
            return (device.name, ifName)
        }) { first, _ in first }
        var byNetwork: [String: [(request: String, device: String, master: String)]] = [:]
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
            guard let master = nics[device] else {
                throw .notFound("device \(device) of ResourceClaim \(namespace)/\(name) is not a NIC of \(configuration.nodeName) (any more)")
            }
            byNetwork[network, default: []].append((request, device, master))
        }
        let key = AllocationKey.resourceClaimContainerID(uid: uid)
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
            for network in done { _ = try? await release(network: network, containerID: key) }
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
    }

    /// The addresses prepared for a claim (by UID).
    public func preparedLeases(uid: String) -> [MultiNICIPAM.Lease] {
        let state = ipam.current
        return state.keys(containerID: AllocationKey.resourceClaimContainerID(uid: uid)).compactMap { state.leases[$0] }
    }
}
