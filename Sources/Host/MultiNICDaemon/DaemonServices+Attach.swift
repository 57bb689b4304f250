import MultiNICCore
import MultiNICPluginHost

extension DaemonServices {
    /// Select + allocate + delegate configs, all or nothing: if a delegate config cannot be built, the addresses are
    /// released again before the error is returned.
    public func attach(_ request: AttachRequest) async throws(DaemonError) -> AttachResponse {
        let backend = try backend(for: request.plugin)
        let selection = try select(SelectRequest(
            pod: request.pod, namespace: request.namespace, host: configuration.nodeName, def: request.network,
            masterNets: request.masterNets, args: request.args, podUID: request.podUID, attachPolicy: request.attachPolicy,
            resourceNames: request.resourceNames))
        let ifNames = selection.masters.indices.map { "\(request.ifName)-\($0)" }
        let allocate = AllocateRequest(pod: request.pod, namespace: request.namespace, host: configuration.nodeName,
                                       def: request.network, masters: selection.masters, containerID: request.containerID,
                                       ifNames: ifNames, podUID: request.podUID)
        let allocations = try await self.allocate(allocate)
        do {
            let nics = try allocations.enumerated().map { (position, allocation) throws(DaemonError) -> AttachedNIC in
                let deviceID = position < selection.deviceIDs.count ? selection.deviceIDs[position] : nil
                let address = "\(allocation.ip)/\(allocation.block)"
                let delegate = try delegateConfig(backend, request: (request.network, request.cniVersion, request.plugin),
                                                  master: allocation.interface, deviceID: deviceID, address: address,
                                                  routes: request.routes ?? [])
                return AttachedNIC(master: allocation.interface, deviceID: deviceID, ifName: allocation.ifName ?? ifNames[position],
                                   address: address, delegate: delegate)
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
        let released = try await deallocate(AllocateRequest(pod: "", namespace: "", host: configuration.nodeName,
                                                            def: request.network, containerID: request.containerID))
        let nics = released.sorted { ($0.ifName ?? "") < ($1.ifName ?? "") }.map { allocation in
            let address = "\(allocation.ip)/\(allocation.block)"
            let delegate = backend.flatMap {
                try? delegateConfig($0, request: (request.network, request.cniVersion, request.plugin), master: allocation.interface,
                                    deviceID: nil, address: address, routes: [])
            }
            return AttachedNIC(master: allocation.interface, ifName: allocation.ifName ?? allocation.interface, address: address,
                               delegate: delegate)
        }
        return AttachResponse(nics: nics)
    }

    private func backend(for plugin: [String: JSONValue]) throws(DaemonError) -> any MainPlugin {
        guard let type = plugin["type"]?.stringValue else { throw .badRequest("plugin.type is required") }
        do {
            return try registry.backend(type)
        } catch {
            throw DaemonError(error)
        }
    }

    private func delegateConfig(_ backend: any MainPlugin, request: (network: String, cniVersion: String, plugin: [String: JSONValue]),
                                master: String, deviceID: String?, address: String, routes: [IPAMRoute]) throws(DaemonError) -> JSONValue {
        guard let network = IPNetwork(address) else { throw .failure("allocated address \(address) is not a CIDR") }
        let attachment = NICAttachment(networkName: request.network, cniVersion: request.cniVersion, plugin: request.plugin,
                                       master: master, deviceID: deviceID, address: network, routes: routes)
        do {
            return try backend.delegateConfig(for: attachment)
        } catch {
            throw .badRequest("delegate config for \(master): \(error)")
        }
    }
}
