import MultiNICCore
import MultiNICIPAM
import MultiNICKubelet
import MultiNICPluginHost

extension DaemonServices {
    /// NIC selection for a pod: SR-IOV networks take the masters of the devices kubelet gave the pod; others run
    /// the network's attach policy (a plugin) over this host's NICs, with each NIC's current attachment count.
    /// With `wholeDevice` (a ``WholeDeviceBackend``) only NICs that carry no attachment are candidates; NICs lent
    /// to pods never are.
    public func select(_ query: NICQuery, wholeDevice: Bool = false) throws(DaemonError) -> [ChosenNIC] {
        let resources = query.resourceNames
        if !resources.isEmpty {
            let uid = query.pod.uid
            guard !uid.isEmpty else {
                throw .badRequest("podUID is required to find the pod's devices of \(resources.joined(separator: ","))")
            }
            let devices = checkpoint.deviceIDs(podUID: uid, resourceNames: resources)
            guard !devices.isEmpty else {
                throw .notFound("pod \(query.pod.namespace)/\(query.pod.name) holds no device of \(resources.joined(separator: ","))"
                    + " in \(checkpoint.path)")
            }
            return devices.map { device in
                ChosenNIC(master: KubeletCheckpoint.interfaceName(ofDevice: device, sysfsRoot: configuration.sysfsRoot) ?? device,
                          deviceID: device, reason: "device \(device) allocated by kubelet")
            }
        }
        let strategy = query.policy?.strategy ?? "none"
        let policy: any AttachPolicy
        do {
            policy = try registry.policy(strategy)
        } catch {
            throw DaemonError(error)
        }
        let attachments = ipam.attachmentCounts()
        let unavailable = unavailableNICs(wholeDevice: wholeDevice)
        let candidates = try interfaces().filter { !unavailable.contains($0.interfaceName) && $0.inUse != true }
            .map { NICCandidate($0, attachments: attachments[$0.interfaceName] ?? 0) }
        let context = SelectionContext(
            masterNets: query.masterNets, strategyTarget: query.policy?.target,
            deviceClasses: deviceClasses.withLock { $0 }, gpusPerNUMA: query.gpusPerNUMA, gpus: query.devices?.locations ?? [])
        let selection: Selection
        do {
            selection = try policy.select(candidates, request: query.request, context: context)
        } catch {
            throw .badRequest(error.description)
        }
        guard !selection.chosen.isEmpty else {
            let why = selection.skipped.map(\.description).joined(separator: "; ")
            let lent = unavailable.sorted()
            throw .notFound("no NIC of \(configuration.nodeName) fits network \(query.network)"
                + (why.isEmpty ? " (no secondary NICs found)" : ": \(why)")
                + (lent.isEmpty ? "" : (wholeDevice ? "; lent to pods or carrying attachments: " : "; lent to pods: ")
                    + lent.joined(separator: ", ")))
        }
        return selection.chosen.map { ChosenNIC(master: $0.name, reason: $0.reason) }
    }
}

extension DaemonServices {
    /// The query with the pod's GPUs, looked up (kubelet PodResources, else the checkpoint) when its policy is
    /// topology and nobody gave a GPU count by hand; other queries are returned as they are.
    public func withDevices(_ query: NICQuery) async -> NICQuery {
        guard query.policy?.strategy == "topology", query.gpusPerNUMA.isEmpty, query.devices == nil, query.resourceNames.isEmpty
        else { return query }
        var found = query
        found.devices = await podDevices.gpus(namespace: query.pod.namespace, name: query.pod.name, uid: query.pod.uid)
        return found
    }

    /// One log line for the device set a selection used.
    public static func describe(_ devices: PodDeviceSet, for query: NICQuery) -> String {
        "pod \(query.pod.namespace)/\(query.pod.name) on \(query.network): \(devices.source.rawValue) gave "
            + (devices.gpus.isEmpty ? "no GPU" : devices.gpus.map { $0.location?.description ?? $0.deviceID }.joined(separator: ", "))
            + (devices.problems.isEmpty ? "" : "; " + devices.problems.joined(separator: "; "))
    }
}
