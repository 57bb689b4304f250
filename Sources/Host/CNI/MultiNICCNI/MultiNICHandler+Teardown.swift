import MultiNICCore

extension MultiNICHandler {
    /// DEL: release at the daemon (queued when it is down) — with native attach the daemon removes the pod's per-NIC
    /// links itself before releasing their addresses — then the delegates' DEL for every other NIC the daemon or the
    /// attachment record knows, then any `<ifname>-<k>` link still in the pod. Never fails for lack of anything to
    /// delete: not after a previous DEL, not without an ADD, not with an empty or missing netns.
    public func delete(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try MultiNICNetConf(stdin: stdin)
        let store = store(config)
        let recorded = store.load(network: config.name, containerID: arguments.containerID, ifName: arguments.ifName)
        let released = release(arguments, config)
        // The daemon's configs first (rebuilt now), then recorded ones for NICs it no longer knows.
        var nics: [String: AttachedNIC] = [:]
        for nic in (recorded?.nics ?? []) + released where nic.delegate != nil { nics[nic.ifName] = nic }
        // NICs the daemon configured or removed itself need no delegate: what is left of them goes with the sweep.
        let native = Set(((recorded?.nics ?? []) + released).filter { $0.native == true }.map(\.ifName))
        let runner = DelegateRunner(searchPath: arguments.path)
        for nic in nics.values.sorted(by: { $0.ifName < $1.ifName }) where !native.contains(nic.ifName) {
            guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else { continue }
            // A link or netns that is already gone is not an error for DEL.
            _ = try? runner.run(type, command: .del, containerID: arguments.containerID,
                                netns: arguments.netns, ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
        }
        let delegated = (recorded?.nics ?? []).contains { $0.native != true }
        if !arguments.netns.isEmpty && (delegated || !Self.allRemovedNatively(released)) {
            PodNamespace.removePerNICLinks(arguments.netns, ifName: arguments.ifName)
        }
        store.remove(network: config.name, containerID: arguments.containerID, ifName: arguments.ifName)
    }

    /// GC (1.1): the daemon releases every address of this network outside `cni.dev/valid-attachments`; the GC is
    /// forwarded to the delegate plugin (when it speaks 1.1) with the per-NIC attachments; records of attachments
    /// that are no longer valid are dropped.
    public func gc(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try MultiNICNetConf(stdin: stdin)
        // The daemon keeps every per-NIC key (`<ifname>-<k>`) of a valid attachment.
        let valid = try DaemonCalls.garbageCollect(client(config), network: config.name, conf: config.extra)
        let store = store(config)
        let validKeys = Set(valid.map { "\($0.containerID)/\($0.ifname)" })
        var perNIC: [ValidAttachment] = []
        for record in store.attachments(network: config.name) {
            if validKeys.contains("\(record.containerID)/\(record.ifName)") {
                perNIC += record.nics.map { ValidAttachment(containerID: record.containerID, ifname: $0.ifName) }
            } else {
                store.remove(network: config.name, containerID: record.containerID, ifName: record.ifName)
            }
        }
        try forwardGC(arguments, config: config, valid: perNIC)
    }

    /// Runs the delegate's GC with the per-NIC valid attachments, when its cniVersion has GC (1.1.0 and later).
    private func forwardGC(_ arguments: CNIArguments, config: MultiNICNetConf, valid: [ValidAttachment]) throws(CNIError) {
        guard let type = config.plugin["type"]?.stringValue, CNIVersion.hasGC(config.delegateVersion) else { return }
        var delegate = config.plugin
        delegate["cniVersion"] = .string(config.delegateVersion)
        delegate["name"] = .string(config.name)
        if !config.multiNICIPAM, let ipam = config.ipam { delegate["ipam"] = ipam }
        delegate["cni.dev/valid-attachments"] = .array(valid.map {
            .object(["containerID": .string($0.containerID), "ifname": .string($0.ifname)])
        })
        _ = try DelegateRunner(searchPath: arguments.path).run(type, command: .gc, containerID: "", netns: "", ifName: "",
                                                               args: "", config: .object(delegate))
    }
}
