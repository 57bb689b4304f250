import Foundation
import MultiNICCloud
import MultiNICCore
import MultiNICDiscovery
import MultiNICIPAM
import MultiNICKubelet
import MultiNICNetlink
import MultiNICPluginHost
import Synchronization

/// The daemon's logic, independent of HTTP: discovery, selection, IPAM and routes. The HTTP layer decodes,
/// calls one method, and maps a ``DaemonError`` to a status once.
public final class DaemonServices: Sendable {
    public let configuration: DaemonConfiguration
    public let ipam: IPAMService
    public let metrics: DaemonMetrics
    let discovery: InterfaceDiscovery
    let routes: RouteKeeper
    let netlink: any RouteNetlink
    let tables: RouteTableFile
    let registry: PluginRegistry
    let checkpoint: KubeletCheckpoint
    /// The pod's GPUs, for the topology policy.
    public let podDevices: PodDeviceLookup
    let deviceClasses = Mutex<[String: DeviceClassSpec]>([:])
    let publisher: MirrorPublisher
    /// Opens the link operations for one pod namespace (native attach); nil when native attach is off.
    let linkOperations: (@Sendable (String) throws(LinkOperationError) -> any LinkOperations)?
    /// Native attaches in progress (capped by ``DaemonConfiguration/maxConcurrentAttaches``).
    let attachesInFlight = Mutex<Int>(0)
    private let interfaceCache = Mutex<(at: ContinuousClock.Instant, interfaces: [InterfaceInfo])?>(nil)
    /// NICs lent whole to pods (host-device).
    let lentDevices: LentDeviceStore
    /// One restore of returned NICs at a time.
    let restoringLock = Mutex<Void>(())
    /// Cloud APIs that must know the addresses of some pools (aws-ipvlan).
    let cloud: CloudRegistrar
    /// Where pods' IPAMClaims are read (nil: claims are not looked up).
    let claimSource: (any IPAMClaimSource)?
    /// Which container holds each claim.
    let claimBindings: ClaimBindings
    /// DRA claims prepared on this node, by claim UID.
    let preparedClaims: DurableRecord<[String: PreparedClaim]>
    /// Where prepared claims' status is written after their pod's ADD (DRA mode).
    let resourceClaimSource: (any ResourceClaimSource)?

    public init(configuration: DaemonConfiguration, netlink: any RouteNetlink, registry: PluginRegistry,
                mirror: (any AllocationMirror)? = nil, cloudProviders: [String: any CloudAddressProvider]? = nil,
                claimSource: (any IPAMClaimSource)? = nil, resourceClaimSource: (any ResourceClaimSource)? = nil) throws(DaemonError) {
        self.configuration = configuration
        self.netlink = netlink
        self.registry = registry
        let metrics = DaemonMetrics()
        self.metrics = metrics
        do {
            ipam = try IPAMService(directory: configuration.stateDirectory + "/ipam",
                                   quarantineSeconds: configuration.quarantineSeconds,
                                   onSync: { metrics.observeFsync($0) })
        } catch {
            throw DaemonError(error)
        }
        discovery = InterfaceDiscovery(netlink: netlink, options: DiscoveryOptions(
            sysfsRoot: configuration.sysfsRoot, virtualKinds: configuration.virtualKinds))
        routes = RouteKeeper(netlink: netlink)
        tables = RouteTableFile(path: configuration.rtTablesPath)
        checkpoint = KubeletCheckpoint(path: configuration.kubeletCheckpointPath)
        var lookup = PodDeviceLookup.Configuration()
        lookup.socketPath = configuration.podResourcesSocket
        lookup.checkpointPath = configuration.kubeletCheckpointPath
        lookup.gpuResources = configuration.gpuResources
        lookup.sysfsRoot = configuration.sysfsRoot
        lookup.nvidiaRoot = configuration.nvidiaRoot
        lookup.timeout = configuration.podResourcesTimeout
        podDevices = PodDeviceLookup(configuration: lookup)
        lentDevices = LentDeviceStore(directory: configuration.stateDirectory)
        cloud = CloudRegistrar(providers: cloudProviders ?? Self.cloudProviders(configuration), directory: configuration.stateDirectory)
        self.claimSource = claimSource
        claimBindings = ClaimBindings(directory: configuration.stateDirectory)
        preparedClaims = DurableRecord(path: configuration.stateDirectory + "/dra-claims.json", empty: [:])
        self.resourceClaimSource = resourceClaimSource
        publisher = MirrorPublisher(mirror: mirror ?? FileAllocationMirror(directory: configuration.stateDirectory + "/ippools"))
        if configuration.nativeAttach, let host = netlink as? LinuxNetlink {
            linkOperations = { path throws(LinkOperationError) in
                do throws(NetlinkError) {
                    return try NetlinkLinkOperations(host: host, podNamespacePath: path)
                } catch {
                    throw LinkOperationError(error.description)
                }
            }
        } else {
            linkOperations = nil
        }
    }

    // MARK: - Interfaces

    /// The host's NICs (cached for a few seconds: selection asks on every pod).
    public func interfaces(maximumAge: Duration = .seconds(5)) throws(DaemonError) -> [InterfaceInfo] {
        let clock = ContinuousClock()
        if let cached = interfaceCache.withLock({ $0 }), clock.now - cached.at < maximumAge { return cached.interfaces }
        restoreReturnedDevices()
        do {
            let found = withLentDevices(try discovery.discover(unmanaged: unmanagedInterfaces()))
            interfaceCache.withLock { $0 = (clock.now, found) }
            return found
        } catch {
            throw DaemonError(error)
        }
    }

    /// The configured unmanaged interfaces: a HostInterface document or a JSON list of interfaces.
    func unmanagedInterfaces() -> [InterfaceInfo] {
        guard let path = configuration.unmanagedFile, let data = FileManager.default.contents(atPath: path) else { return [] }
        if let host = try? JSONDecoder().decode(HostInterface.self, from: data) { return host.spec.interfaces }
        return (try? JSONDecoder().decode([InterfaceInfo].self, from: data)) ?? []
    }

    /// Forgets the cached NICs (a link or address changed).
    public func invalidateInterfaces() {
        interfaceCache.withLock { $0 = nil }
    }

    // MARK: - Pools and device classes

    /// Replaces this host's pools with the given IPPools (those of other hosts are ignored).
    /// Allocations a pool names in ``IPPoolSpec/adoptAnnotation`` (a cluster taken over from the original) are adopted
    /// in the same journal record as the pool, each once. Returns a sentence per adoption refused.
    @discardableResult
    public func setPools(_ pools: [IPPool]) async throws(DaemonError) -> [String] {
        var blocks: [PoolBlock] = []
        var adoptions: [Adoption] = []
        for pool in pools where pool.spec.hostName == configuration.nodeName || pool.spec.hostName.isEmpty {
            guard let block = PoolBlock(pool: pool) else {
                throw .badRequest("IPPool \(LogText.escaped(pool.name, limit: 80)): podCIDR \(LogText.escaped(pool.spec.podCIDR, limit: 64))"
                    + " or vlanCIDR \(LogText.escaped(pool.spec.vlanCIDR, limit: 64)) is not a CIDR")
            }
            if let problem = block.problem { throw .badRequest("IPPool \(LogText.escaped(pool.name, limit: 80)): \(problem)") }
            blocks.append(block)
            do {
                for allocation in try IPPoolSpec.adoptions(of: pool) ?? [] {
                    guard let address = IPAddress(allocation.address) else { continue }
                    adoptions.append(Adoption(pool: block.name, address: address, namespace: allocation.namespace, pod: allocation.pod))
                }
            } catch {
                throw .badRequest("IPPool \(LogText.escaped(pool.name, limit: 80)): \(error)")
            }
        }
        let refused: [String]
        do {
            refused = try await ipam.setPools(blocks, adopting: adoptions)
        } catch {
            throw DaemonError(error)
        }
        return refused
    }

    /// Refuses a pod whose namespace the network does not target (its pools' ``PoolBlock/namespaces``): a NetConf is
    /// written by namespace users and may name any network.
    func checkNamespace(_ namespace: String, network: String) throws(DaemonError) {
        let pools = ipam.current.pools.values.filter { $0.network == network }
        guard let refusing = pools.first(where: { !$0.serves(namespace: namespace) }) else { return }
        let allowed = (refusing.namespaces ?? []).sorted().joined(separator: ", ")
        throw .forbidden("namespace \(LogText.escaped(namespace, limit: 80)) may not use network \(network)"
            + " (its namespaces: \(allowed.isEmpty ? "none" : allowed))")
    }

    public func setDeviceClasses(_ classes: [DeviceClass]) {
        deviceClasses.withLock { $0 = Dictionary(classes.map { ($0.name, $0.spec) }, uniquingKeysWith: { _, last in last }) }
    }

    // MARK: - IPAM

    /// One address per slot, all or nothing, durable on return.
    public func allocate(_ request: AddressRequest) async throws(DaemonError) -> [Lease] {
        guard !request.slots.isEmpty else { throw .badRequest("masters: at least one host NIC is required") }
        try checkNamespace(request.pod.namespace, network: request.network)
        return try await allocateChecked(request)
    }

    /// ``allocate(_:)`` for a request whose namespace was already checked (the attach path checks it first).
    func allocateChecked(_ request: AddressRequest) async throws(DaemonError) -> [Lease] {
        var requests: [AllocationRequest] = []
        for slot in request.slots {
            guard let pool = ipam.pools(network: request.network, interfaceName: slot.master).first else {
                let networks = ipam.networksWithPools()
                throw .notFound("no IPPool of network \(request.network) on NIC \(slot.master) of \(configuration.nodeName)"
                    + " (networks with pools here: \(networks.isEmpty ? "none" : networks.joined(separator: ", ")))")
            }
            requests.append(AllocationRequest(ifName: slot.ifName, pool: pool.name))
        }
        let leases: [Lease]
        do {
            leases = try await ipam.allocate(network: request.network, containerID: request.containerID, pod: request.pod,
                                             requests: requests)
        } catch {
            throw DaemonError(error)
        }
        try await registerWithCloud(leases)
        metrics.countAllocations(leases.count)
        mirrorChanged(leases)
        return leases
    }

    /// Releases the container's addresses on `network` (only those of `ifNames` when there are any). Nothing to
    /// release is success.
    public func release(network: String, containerID: String, ifNames: [String] = []) async throws(DaemonError) -> [Lease] {
        try await releasing { () async throws(IPAMError) -> [Lease] in
            guard !ifNames.isEmpty else { return try await self.ipam.release(containerID: containerID, network: network) }
            var released: [Lease] = []
            for name in ifNames {
                released += try await self.ipam.release(containerID: containerID, network: network, ifName: name)
            }
            return released
        }
    }

    /// Releases one multi-NIC attachment: the pod interface `attachment` and its per-NIC interfaces.
    public func release(network: String, containerID: String, attachment: String) async throws(DaemonError) -> [Lease] {
        try await releasing { () async throws(IPAMError) -> [Lease] in
            try await self.ipam.release(containerID: containerID, network: network, attachment: attachment)
        }
    }

    /// Runs a release, then counts it and updates the mirror.
    func releasing(_ body: () async throws(IPAMError) -> [Lease]) async throws(DaemonError) -> [Lease] {
        do {
            let released = try await body()
            await unregisterFromCloud(released)
            metrics.countReleases(released.count)
            mirrorChanged(released)
            // A lent NIC whose address went may be back on the host already (its pod's namespace gone without a DEL).
            let lent = lentDevices.names
            if released.contains(where: { lent.contains($0.interfaceName) }) {
                OSThread.detach { [self] in restoreReturnedDevices() }
            }
            return released
        } catch {
            throw DaemonError(error)
        }
    }

    /// CNI GC: releases everything of the network except the valid attachments.
    public func garbageCollect(network: String, valid: Set<AllocationKey>) async throws(DaemonError) -> [Lease] {
        try await releasing { () async throws(IPAMError) -> [Lease] in
            try await self.ipam.garbageCollect(network: network, valid: valid)
        }
    }

    private func mirrorChanged(_ leases: [Lease]) {
        guard !leases.isEmpty else { return }
        publisher.changed(Set(leases.map(\.pool))) { [ipam] in ipam.current }
    }

    /// The leases of a container on a network (of one attachment when `attachment` names the pod interface). With
    /// `pod` and `claims` (pod interface → address, from the container's CNI result), the pod's pod-keyed leases
    /// with those addresses are first handed to the container (``IPAMService/rekey(network:pod:containerID:claims:)``).
    public func leases(network: String, containerID: String, attachment: String? = nil, namespace: String? = nil, pod: String? = nil,
                       claims: [String: String] = [:]) async throws(DaemonError) -> [Lease] {
        if let pod, !pod.isEmpty, !claims.isEmpty {
            do {
                _ = try await ipam.rekey(network: network, pod: PodRef(namespace: namespace ?? "", name: pod), containerID: containerID,
                                         claims: claims)
            } catch {
                throw DaemonError(error)
            }
        }
        return heldLeases(network: network, containerID: containerID, attachment: attachment)
    }

    /// The leases a container holds now.
    func heldLeases(network: String, containerID: String, attachment: String?) -> [Lease] {
        let state = ipam.current
        let keys = attachment.map { state.keys(containerID: containerID, network: network, attachment: $0) }
            ?? state.keys(containerID: containerID, network: network)
        return keys.compactMap { state.leases[$0] }
    }

    // MARK: - Status

    public func status() -> DaemonStatus {
        let now = Date().timeIntervalSince1970
        let state = ipam.current
        let pools = state.pools.values.sorted { $0.name < $1.name }.map { pool in
            let usage = state.usage(pool: pool.name, now: now)
            return DaemonStatus.Pool(name: pool.name, network: pool.network, interface: pool.interfaceName,
                                     inUse: usage.inUse, quarantined: usage.quarantined, capacity: String(usage.capacity))
        }
        let problems = routeProblems()
        var degraded: [String] = []
        for (network, found) in problems.sorted(by: { $0.key < $1.key }) {
            degraded.append("routes of \(network): \(found.first ?? "not in sync")")
        }
        for pool in pools where UInt128(pool.inUse + pool.quarantined) >= (UInt128(pool.capacity) ?? 0) {
            degraded.append("IPPool \(pool.name) is full")
        }
        for (name, problem) in state.skippedPools.sorted(by: { $0.key < $1.key }) {
            degraded.append("IPPool \(LogText.escaped(name, limit: 80)) skipped: \(problem)")
        }
        let inSync = Dictionary(uniqueKeysWithValues: routes.reports.keys.map { ($0, problems[$0] == nil) })
        return DaemonStatus(node: configuration.nodeName, pools: pools, routesInSync: inSync, degraded: degraded,
                            deviceSource: podDevices.source)
    }

    /// `/metrics` text.
    public func metricsText() -> String {
        let status = status()
        var samples: [DaemonMetrics.Sample] = []
        for pool in status.pools {
            let labels = ["pool": pool.name, "network": pool.network, "interface": pool.interface]
            samples.append(.init("multinic_pool_addresses_in_use", "Addresses in use per pool.", labels: labels, value: Double(pool.inUse)))
            samples.append(.init("multinic_pool_addresses_quarantined", "Released addresses still resting per pool.", labels: labels,
                                 value: Double(pool.quarantined)))
            samples.append(.init("multinic_pool_capacity", "Usable addresses per pool.", labels: labels, value: Double(pool.capacity) ?? 0))
        }
        for (network, inSync) in status.routesInSync.sorted(by: { $0.key < $1.key }) {
            samples.append(.init("multinic_routes_in_sync", "1 when a network's routes are converged.", labels: ["network": network],
                                 value: inSync ? 1 : 0))
        }
        samples.append(.init("multinic_journal_fsyncs", "fsyncs of the allocation journal since start.", value: Double(ipam.syncCount)))
        samples.append(.init("multinic_journal_fsync_seconds", "Seconds spent writing and syncing the journal since start"
            + " (divide by multinic_journal_fsyncs for the mean latency).", value: ipam.syncSeconds))
        return metrics.render(samples: samples)
    }
}
