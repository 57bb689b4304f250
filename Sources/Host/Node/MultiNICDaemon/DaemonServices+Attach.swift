import MultiNICCore
import MultiNICIPAM
import MultiNICPluginHost

extension DaemonServices {
    /// Select + allocate + delegate configs, all or nothing: if a delegate config cannot be built or a route has no
    /// NIC to go on, the addresses are released again before the error is returned.
    public func attach(_ request: AttachmentRequest) async throws(DaemonError) -> [AttachedNIC] {
        try checkNamespace(request.query.pod.namespace, network: request.query.network)
        return try await attach(request, query: request.query)
    }

    /// `attach` with the pod's devices looked up first (see ``withDevices(_:)``); answers the device set it used.
    public func attachWithDevices(_ request: AttachmentRequest) async throws(DaemonError) -> (nics: [AttachedNIC], devices: PodDeviceSet?) {
        try checkNamespace(request.query.pod.namespace, network: request.query.network)
        let query = await withDevices(request.query)
        return (try await attach(request, query: query), query.devices)
    }

    /// The attach itself, once the pod's namespace was checked.
    private func attach(_ request: AttachmentRequest, query: NICQuery) async throws(DaemonError) -> [AttachedNIC] {
        let backend = try backend(for: request.plugin)
        let wholeDevice = backend is any WholeDeviceBackend
        // DRA mode: a pod whose ResourceClaim was prepared here gets exactly the claimed NICs, prepared addresses.
        if request.delegatedIPAM == nil,
           let prepared = try preparedClaim(pod: query.pod, network: query.network, deviceID: request.deviceID) {
            return try await attachPrepared(prepared.claim, leases: prepared.leases, request: request, backend: backend)
        }
        // A claim that has addresses here keeps its NICs (the same address on each); else the policy chooses.
        let claim = request.delegatedIPAM == nil
            ? try await claimUse(query, containerID: request.containerID, ifName: request.ifName) : nil
        let chosen: [ChosenNIC]
        do throws(DaemonError) {
            if let claim, !claim.existing.isEmpty {
                chosen = claim.existing.map { ChosenNIC(master: $0.interfaceName, reason: "IPAMClaim \(claim.namespace)/\(claim.name)") }
            } else {
                chosen = try select(query, wholeDevice: wholeDevice)
            }
        } catch {
            if let claim { await abandon(claim, network: query.network, containerID: request.containerID) }
            throw error
        }
        let ifNames = chosen.indices.map { "\(request.ifName)-\($0)" }
        let context = DelegateContext(network: query.network, cniVersion: request.cniVersion, plugin: request.plugin)
        if let ipam = request.delegatedIPAM {
            // multiNICIPAM: false — nothing to allocate; each delegate runs the network's own IPAM.
            return try chosen.enumerated().map { (position, nic) throws(DaemonError) -> AttachedNIC in
                let delegate = try delegateConfig(backend, context, master: nic.master, deviceID: nic.deviceID,
                                                  ipam: .delegated(ipam))
                return AttachedNIC(master: nic.master, deviceID: nic.deviceID, ifName: ifNames[position], address: nil,
                                   delegate: delegate)
            }
        }
        let addresses = AddressRequest(network: query.network, pod: query.pod, containerID: claim?.key ?? request.containerID,
                                       slots: zip(chosen, ifNames).map { AddressRequest.Slot(master: $0.master, ifName: $1) })
        let leases: [Lease]
        do throws(DaemonError) {
            leases = try await allocateChecked(addresses)
        } catch {
            if let claim { await abandon(claim, network: query.network, containerID: request.containerID) }
            throw error
        }
        do throws(DaemonError) {
            // Remembered (durably) before the pod gets them; a NIC another ADD lent meanwhile fails this one (503:
            // the CNI retries and gets another NIC).
            if wholeDevice { try lend(chosen) }
            let attached = try await configure(Array(zip(chosen.map(\.deviceID), leases)), request: request, backend: backend)
            if let claim { await publishClaim(claim, leases: leases, pod: query.pod.name) }
            return attached
        } catch {
            if let claim {
                await abandon(claim, network: query.network, containerID: request.containerID)
            } else {
                _ = try? await release(network: query.network, containerID: request.containerID, ifNames: ifNames)
            }
            throw error
        }
    }

    /// Pod interface k on the NIC of lease k with its address: delegate configs, the routes each NIC can carry, and
    /// native attach where the backend can.
    func configure(_ pairs: [(deviceID: String?, lease: Lease)], request: AttachmentRequest,
                   backend: any MainPlugin) async throws(DaemonError) -> [AttachedNIC] {
        let context = DelegateContext(network: request.query.network, cniVersion: request.cniVersion, plugin: request.plugin)
        let nics = try pairs.enumerated().map { (position, pair) throws(DaemonError) -> AttachedNIC in
            let address = pair.lease.podAddress
            // Routes are installed by the caller with a metric per NIC, not by the delegate: the same destination
            // on two interfaces would otherwise clash ("file exists").
            let delegate = try delegateConfig(backend, context, master: pair.lease.interfaceName, deviceID: pair.deviceID,
                                              ipam: .allocated(address, routes: []))
            let carried = request.routes.filter { $0.applies(to: address) }
                .map { NICRoute(route: $0, metric: PodRoute.metric(position: position)) }
            return AttachedNIC(master: pair.lease.interfaceName, deviceID: pair.deviceID, ifName: "\(request.ifName)-\(position)",
                               address: address, delegate: delegate, routes: carried.isEmpty ? nil : carried)
        }
        let unreachable = request.routes.filter { route in !nics.contains { ($0.routes ?? []).contains { $0.route == route } } }
        if !unreachable.isEmpty {
            throw .badRequest("route " + unreachable.map(\.description).joined(separator: ", ")
                + ": the gateway is on none of the pod's interfaces ("
                + nics.compactMap { $0.address?.description }.joined(separator: ", ") + ")")
        }
        guard let native = nativeAttacher(backend, request) else { return nics }
        return try await attachNatively(nics, with: native.backend, in: native.netns, request: request)
    }

    /// Releases what a detach names and returns the NICs to remove, with their delegate configs when the backend can
    /// rebuild them.
    /// With native attach (``DetachmentRequest/netns``) the daemon removes the per-NIC links itself first; those
    /// come back marked native, without a delegate config.
    public func detach(_ request: DetachmentRequest) async throws(DaemonError) -> [AttachedNIC] {
        let backend = try? backend(for: request.plugin)
        let removed = await detachNatively(request, backend: backend) ?? []
        let released = try await release(request)
        releaseClaims(heldBy: [request.containerID])
        let context = DelegateContext(network: request.network, cniVersion: request.cniVersion, plugin: request.plugin)
        return released.sorted { $0.key.ifName < $1.key.ifName }.map { lease in
            if !lease.key.isPodKeyed && removed.contains(lease.key.ifName) {
                return AttachedNIC(master: lease.interfaceName, ifName: lease.key.ifName, address: lease.podAddress,
                                   delegate: nil, native: true)
            }
            // A pod-keyed lease knows the host NIC, not the pod interface: the CNI removes the pod's per-NIC links.
            let delegate = lease.key.isPodKeyed ? nil : backend.flatMap {
                try? delegateConfig($0, context, master: lease.interfaceName, deviceID: nil,
                                    ipam: .allocated(lease.podAddress, routes: []))
            }
            return AttachedNIC(master: lease.interfaceName, ifName: lease.key.ifName, address: lease.podAddress, delegate: delegate)
        }
    }

    /// Releases what a detach names: one attachment (`attachment` and its per-NIC interfaces), else every address of
    /// the container on the network.
    /// A container that holds nothing here may be a pod of a taken-over cluster: its pod-keyed leases go instead.
    func release(_ request: DetachmentRequest) async throws(DaemonError) -> [Lease] {
        let released: [Lease]
        if let attachment = request.attachment {
            released = try await release(network: request.network, containerID: request.containerID, attachment: attachment)
        } else {
            released = try await release(network: request.network, containerID: request.containerID)
        }
        guard released.isEmpty, let pod = request.pod, !pod.namespace.isEmpty, !pod.name.isEmpty else { return released }
        return try await releasing { () async throws(IPAMError) -> [Lease] in try await self.ipam.release(network: request.network, pod: pod) }
    }

    /// What every delegate config of one attachment shares.
    struct DelegateContext {
        var network: String
        var cniVersion: String
        var plugin: [String: JSONValue]
    }

    private func backend(for plugin: [String: JSONValue]) throws(DaemonError) -> any MainPlugin {
        guard let type = plugin["type"]?.stringValue else { throw .badRequest("plugin.type is required") }
        do {
            return try registry.backend(type)
        } catch {
            throw DaemonError(error)
        }
    }

    private func delegateConfig(_ backend: any MainPlugin, _ context: DelegateContext, master: String, deviceID: String?,
                                ipam: PodIPAM) throws(DaemonError) -> JSONValue {
        let attachment = NICAttachment(networkName: context.network, cniVersion: context.cniVersion, plugin: context.plugin,
                                       master: master, deviceID: deviceID, ipam: ipam)
        do {
            return try backend.delegateConfig(for: attachment)
        } catch {
            throw .badRequest("delegate config for \(master): \(error)")
        }
    }
}
