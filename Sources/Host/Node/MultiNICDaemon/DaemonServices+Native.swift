#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// Native attach: the daemon configures every pod interface itself through the backend's ``NativeAttaching`` and
/// the host's netlink, instead of handing the CNI binary one delegate config per NIC to exec. The netlink work runs
/// on a thread of its own (it blocks on the kernel: a link deletion waits for RCU), never on the concurrency pool.
extension DaemonServices {
    /// The backend's native attacher and the pod's namespace when this request takes the native path: native attach
    /// is on, the CNI gave an acceptable namespace (and the network did not say `nativeAttach: false`), the daemon
    /// allocates the addresses, and the backend can.
    func nativeAttacher(_ backend: any MainPlugin, _ request: AttachmentRequest) -> (backend: any NativeAttaching, netns: String)? {
        guard linkOperations != nil, let netns = request.netns, request.delegatedIPAM == nil,
              let native = backend as? any NativeAttaching else { return nil }
        return (native, netns)
    }

    /// Configures `nics` (addresses already allocated, so the journal records the attachment before the first link
    /// exists) in the pod, in order; all or nothing: when NIC k fails, NICs 0..<k are removed again (k removes itself)
    /// and the error is returned; the caller releases the addresses. Per-NIC links an interrupted attach of this pod
    /// interface left behind (the daemon killed mid-way, the ADD retried) are removed first.
    func attachNatively(_ nics: [AttachedNIC], with native: any NativeAttaching, in netns: String,
                        request: AttachmentRequest) async throws(DaemonError) -> [AttachedNIC] {
        guard let open = linkOperations, nics.allSatisfy({ $0.address != nil }) else { return nics }
        try enterAttachGate()
        defer { attachesInFlight.withLock { $0 -= 1 } }
        let network = request.query.network, cniVersion = request.cniVersion, plugin = request.plugin, ifName = request.ifName
        let pauseAfter = configuration.pauseNativeAttachAfterLinks
        let outcome: Result<[AttachedNIC], DaemonError> = await OSThread.result { () throws(DaemonError) -> [AttachedNIC] in
            guard let links = try? open(netns) else {
                // The daemon cannot enter the pod's namespace (its path not mounted here, no CAP_SYS_ADMIN for
                // setns): nothing was made, so the delegates do it as before.
                return nics
            }
            let stale = Self.leftOver(of: ifName, in: (try? links.linkKinds()) ?? [:])
            if !stale.isEmpty { try? links.deleteLinks(ifNames: stale) }
            var configured: [AttachedNIC] = []
            for nic in nics {
                guard let address = nic.address else { continue }
                let attachment = NICAttachment(networkName: network, cniVersion: cniVersion, plugin: plugin,
                                               master: nic.master, deviceID: nic.deviceID, ipam: .allocated(address, routes: []))
                do throws(NativeAttachError) {
                    let state = try native.attach(attachment, ifName: nic.ifName, links: links)
                    var done = nic
                    done.native = true
                    done.mac = state.macAddress
                    configured.append(done)
                    if configured.count == pauseAfter { sleep(60) }
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
        return try outcome.get()
    }

    /// Removes the pod's per-NIC links of `attachment` (every `<attachment>-<k>` of a kind native attach makes,
    /// recorded or left behind) before their addresses are released: an address is never free while a link still
    /// holds it. Returns the names it removed, or nil when the daemon cannot do it here (no native attach, a backend
    /// without it, the namespace not reachable, all native slots busy): then the CNI binary removes them as before.
    func detachNatively(_ request: DetachmentRequest, backend: (any MainPlugin)?) async -> Set<String>? {
        guard let open = linkOperations, let netns = request.netns, let attachment = request.attachment,
              backend is any NativeAttaching, (try? enterAttachGate()) != nil else { return nil }
        defer { attachesInFlight.withLock { $0 -= 1 } }
        let outcome: Result<Set<String>?, DaemonError> = await OSThread.result { () throws(DaemonError) -> Set<String>? in
            guard let links = try? open(netns), let kinds = try? links.linkKinds() else { return nil }
            // The links go together (the host deletes an attachment's link group in one kernel batch): DEL of a
            // 4-NIC pod waits for one RCU grace period, not four.
            let names = Self.leftOver(of: attachment, in: kinds)
            guard (try? links.deleteLinks(ifNames: names)) != nil else { return nil }
            return Set(names)
        }
        return (try? outcome.get()) ?? nil
    }

    /// The per-NIC links of pod interface `ifName` a native attach may have made: `<ifName>-<k>` of a kind it
    /// creates.
    static func leftOver(of ifName: String, in kinds: [String: String]) -> [String] {
        kinds.filter { LinuxInterfaceName.isPerNIC($0.key, of: ifName) && VirtualLinkRequest.kernelKinds.contains($0.value) }
            .keys.sorted()
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
