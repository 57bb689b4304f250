import MultiNICCore
import MultiNICIPAM
import MultiNICPluginHost

extension DaemonServices {
    /// NIC selection for a pod: SR-IOV networks take the masters of the devices kubelet gave the pod; others run
    /// the network's attach policy (a plugin) over this host's NICs, with each NIC's current attachment count.
    public func select(_ request: SelectRequest) throws(DaemonError) -> SelectResponse {
        if let resources = request.resourceNames, !resources.isEmpty {
            guard let uid = request.podUID, !uid.isEmpty else {
                throw .badRequest("podUID is required to find the pod's devices of \(resources.joined(separator: ","))")
            }
            let devices = checkpoint.deviceIDs(podUID: uid, resourceNames: resources)
            guard !devices.isEmpty else {
                throw .notFound("pod \(request.namespace)/\(request.pod) holds no device of \(resources.joined(separator: ","))"
                    + " in \(checkpoint.path)")
            }
            let masters = devices.map { KubeletCheckpoint.interfaceName(ofDevice: $0, sysfsRoot: configuration.sysfsRoot) ?? $0 }
            return SelectResponse(deviceIDs: devices, masters: masters, reasons: devices.map { "device \($0) allocated by kubelet" })
        }
        let strategy = request.attachPolicy?.strategy ?? "none"
        let policy: any AttachPolicy
        do {
            policy = try registry.policy(strategy)
        } catch {
            throw DaemonError(error)
        }
        let podRequest = PodRequest(nics: request.args?.nics, masters: request.args?.masters ?? [],
                                    deviceClass: request.args?.class, target: request.args?.target)
        if let nics = podRequest.nics, nics < 0 { throw .badRequest("args.nics: \(nics) is negative") }
        let attachments = ipam.attachmentCounts()
        let candidates = try interfaces().map { NICCandidate($0, attachments: attachments[$0.interfaceName] ?? 0) }
        let context = SelectionContext(
            masterNets: request.masterNets ?? [], strategyTarget: request.attachPolicy?.target,
            deviceClasses: deviceClasses.withLock { $0 },
            gpusPerNUMA: Dictionary((request.gpusPerNUMA ?? [:]).compactMap { key, value in Int(key).map { ($0, value) } },
                                    uniquingKeysWith: { first, _ in first }))
        let selection: Selection
        do {
            selection = try policy.select(candidates, request: podRequest, context: context)
        } catch {
            throw .badRequest(error.description)
        }
        guard !selection.chosen.isEmpty else {
            let why = selection.skipped.map(\.description).joined(separator: "; ")
            throw .notFound("no NIC of \(configuration.nodeName) fits network \(request.def)"
                + (why.isEmpty ? " (no secondary NICs found)" : ": \(why)"))
        }
        return SelectResponse(deviceIDs: [], masters: selection.chosen.map(\.name), reasons: selection.chosen.map(\.reason))
    }
}
