import MultiNICCore

/// Native attach: the daemon configures every pod interface itself through the backend's ``NativeAttaching`` and
/// the host's netlink, instead of handing the CNI binary one delegate config per NIC to exec.
extension DaemonServices {
    /// The backend's native attacher and the pod's namespace when this request takes the native path: native attach
    /// is on, the CNI gave an acceptable namespace (and the network did not say `nativeAttach: false`), the daemon
    /// allocates the addresses, and the backend can.
    func nativeAttacher(_ backend: any MainPlugin, _ request: AttachmentRequest) -> (backend: any NativeAttaching, netns: String)? {
        guard linkOperations != nil, let netns = request.netns, request.delegatedIPAM == nil,
              let native = backend as? any NativeAttaching else { return nil }
        return (native, netns)
    }

    /// Configures `nics` (addresses already allocated) in the pod, in order; all or nothing: when NIC k fails, NICs
    /// 0..<k are removed again (k removes itself) and the error is returned; the caller releases the addresses.
    func attachNatively(_ nics: [AttachedNIC], with native: any NativeAttaching, in netns: String,
                        request: AttachmentRequest) throws(DaemonError) -> [AttachedNIC] {
        guard let open = linkOperations, nics.allSatisfy({ $0.address != nil }) else { return nics }
        try enterAttachGate()
        defer { attachesInFlight.withLock { $0 -= 1 } }
        let links: any LinkOperations
        do {
            links = try open(netns)
        } catch {
            // The daemon cannot enter the pod's namespace (its path not mounted here, no CAP_SYS_ADMIN for setns):
            // nothing was made, so the delegates do it as before.
            return nics
        }
        var configured: [AttachedNIC] = []
        for nic in nics {
            guard let address = nic.address else { continue }
            let attachment = NICAttachment(networkName: request.query.network, cniVersion: request.cniVersion, plugin: request.plugin,
                                           master: nic.master, deviceID: nic.deviceID, ipam: .allocated(address, routes: []))
            do {
                let state = try native.attach(attachment, ifName: nic.ifName, links: links)
                var done = nic
                done.native = true
                done.mac = state.macAddress
                configured.append(done)
            } catch {
                for made in configured.reversed() { try? native.detach(ifName: made.ifName, links: links) }
                switch error {
                case .unsupported: return nics  // the backend declines this attachment: all of it goes to the delegates
                case .invalidConfig(let reason): throw .badRequest("\(nic.ifName) on \(nic.master): \(reason)")
                default: throw .failure("\(nic.ifName) on \(nic.master): \(error)")
                }
            }
        }
        return configured
    }

    /// Counts one more native attach, or answers 503 when ``DaemonConfiguration/maxConcurrentAttaches`` are running.
    private func enterAttachGate() throws(DaemonError) {
        let limit = max(1, configuration.maxConcurrentAttaches)
        let admitted = attachesInFlight.withLock { count -> Bool in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { throw .unavailable("\(limit) native attaches in progress on this node; retry") }
    }
}
