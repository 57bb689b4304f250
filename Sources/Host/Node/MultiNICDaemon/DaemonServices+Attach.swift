import MultiNICCore
import MultiNICPluginHost

extension DaemonServices {
    /// Select + allocate + delegate configs, all or nothing: if a delegate config cannot be built, the addresses are
    /// released again before the error is returned.
    public func attach(_ request: AttachRequest) async throws(DaemonError) -> AttachResponse {
        try checkNamespace(request.namespace, network: request.network)
        let backend = try backend(for: request.plugin)
        let selection = try select(SelectRequest(
            pod: request.pod, namespace: request.namespace, host: configuration.nodeName, def: request.network,
            masterNets: request.masterNets, args: request.args, podUID: request.podUID, attachPolicy: request.attachPolicy,
            resourceNames: request.resourceNames, gpusPerNUMA: request.gpusPerNUMA))
        let routes = try podRoutes(request.routes ?? [])
        let ifNames = selection.masters.indices.map { "\(request.ifName)-\($0)" }
        let context = (request.network, request.cniVersion, request.plugin)
        if let ipam = request.delegatedIPAM {
            // multiNICIPAM: false — nothing to allocate; each delegate runs the network's own IPAM.
            let nics = try selection.masters.enumerated().map { (position, master) throws(DaemonError) -> AttachedNIC in
                let deviceID = position < selection.deviceIDs.count ? selection.deviceIDs[position] : nil
                let delegate = try delegateConfig(backend, request: context, master: master, deviceID: deviceID,
                                                  ipam: .delegated(ipam))
                return AttachedNIC(master: master, deviceID: deviceID, ifName: ifNames[position], address: "", delegate: delegate)
            }
            return AttachResponse(nics: nics)
        }
        let allocate = AllocateRequest(pod: request.pod, namespace: request.namespace, host: configuration.nodeName,
                                       def: request.network, masters: selection.masters, containerID: request.containerID,
                                       ifNames: ifNames, podUID: request.podUID)
        let allocations = try await self.allocate(allocate)
        do throws(DaemonError) {
            let nics = try allocations.enumerated().map { (position, allocation) throws(DaemonError) -> AttachedNIC in
                let deviceID = position < selection.deviceIDs.count ? selection.deviceIDs[position] : nil
                let address = "\(allocation.ip)/\(allocation.block)"
                let block = try network(address)
                // Routes are installed by the caller with a metric per NIC, not by the delegate: the same destination
                // on two interfaces would otherwise clash ("file exists").
                let delegate = try delegateConfig(backend, request: context, master: allocation.interface, deviceID: deviceID,
                                                  ipam: .allocated(block, routes: []))
                let carried = routes.filter { $0.applies(to: block) }
                    .map { NICRoute(route: $0, metric: PodRoute.metric(position: position)) }
                return AttachedNIC(master: allocation.interface, deviceID: deviceID, ifName: allocation.ifName ?? ifNames[position],
                                   address: address, delegate: delegate, routes: carried.isEmpty ? nil : carried)
            }
            let unreachable = routes.filter { route in !nics.contains { ($0.routes ?? []).contains { $0.route == route } } }
            if !unreachable.isEmpty {
                throw .badRequest("route " + unreachable.map(\.description).joined(separator: ", ")
                    + ": the gateway is on none of the pod's interfaces (" + nics.map(\.address).joined(separator: ", ") + ")")
            }
            return AttachResponse(nics: nics)
        } catch {
            _ = try? await deallocate(allocate)
            throw error
        }
    }

    /// Releases the container's addresses and returns the NICs to remove, with their delegate configs when the
    /// backend can rebuild them.
    public func detach(_ request: DetachRequest) async throws(DaemonError) -> AttachResponse {
        let backend = try? backend(for: request.plugin)
        let released = try await release(request)
        let nics = released.sorted { ($0.ifName ?? "") < ($1.ifName ?? "") }.map { allocation in
            let address = "\(allocation.ip)/\(allocation.block)"
            let delegate = backend.flatMap { backend in
                IPNetwork(address).flatMap {
                    try? delegateConfig(backend, request: (request.network, request.cniVersion, request.plugin),
                                        master: allocation.interface, deviceID: nil, ipam: .allocated($0, routes: []))
                }
            }
            return AttachedNIC(master: allocation.interface, ifName: allocation.ifName ?? allocation.interface, address: address,
                               delegate: delegate)
        }
        return AttachResponse(nics: nics)
    }

    /// Releases what a detach names: one attachment (`ifName` and its per-NIC interfaces), else every address of
    /// the container on the network.
    func release(_ request: DetachRequest) async throws(DaemonError) -> [IPAllocation] {
        if let ifName = request.ifName {
            return try await release(containerID: request.containerID, network: request.network, attachment: ifName)
        }
        return try await deallocate(AllocateRequest(pod: "", namespace: "", host: configuration.nodeName,
                                                    def: request.network, containerID: request.containerID))
    }

    private func backend(for plugin: [String: JSONValue]) throws(DaemonError) -> any MainPlugin {
        guard let type = plugin["type"]?.stringValue else { throw .badRequest("plugin.type is required") }
        do {
            return try registry.backend(type)
        } catch {
            throw DaemonError(error)
        }
    }

    private func podRoutes(_ wire: [IPAMRoute]) throws(DaemonError) -> [PodRoute] {
        var routes: [PodRoute] = []
        for item in wire {
            guard let route = PodRoute(item) else {
                throw .badRequest("routes: \(LogText.escaped(item.dst, limit: 64)) is not a CIDR with an optional gateway")
            }
            routes.append(route)
        }
        return routes
    }

    private func network(_ address: String) throws(DaemonError) -> IPNetwork {
        guard let network = IPNetwork(address) else { throw .failure("allocated address \(address) is not a CIDR") }
        return network
    }

    private func delegateConfig(_ backend: any MainPlugin, request: (network: String, cniVersion: String, plugin: [String: JSONValue]),
                                master: String, deviceID: String?, ipam: PodIPAM) throws(DaemonError) -> JSONValue {
        let attachment = NICAttachment(networkName: request.network, cniVersion: request.cniVersion, plugin: request.plugin,
                                       master: master, deviceID: deviceID, ipam: ipam)
        do {
            return try backend.delegateConfig(for: attachment)
        } catch {
            throw .badRequest("delegate config for \(master): \(error)")
        }
    }
}
