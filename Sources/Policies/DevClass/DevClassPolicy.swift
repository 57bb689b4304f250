import MultiNICCore

/// devClass: only NICs whose vendor and product belong to the DeviceClass named by the pod's `class`, in base
/// order, *then* `nics` (upstream truncated first and could return fewer NICs than asked for).
struct DevClassPolicy: AttachPolicy {
    func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError)
        -> Selection
    {
        let base = SelectionSupport.baseOrder(candidates, request: request, context: context)
        guard let className = request.deviceClass, !className.isEmpty else {
            return SelectionSupport.take(base.ordered.map { ($0.candidate, $0.reason + "; no class requested") },
                                         count: request.nics, skipped: base.skipped)
        }
        guard let deviceClass = context.deviceClasses[className] else {
            throw .unknownDeviceClass(className, available: context.deviceClasses.keys.sorted())
        }
        var skipped = base.skipped
        var matching: [SelectionSupport.Ranked] = []
        for (candidate, reason) in base.ordered {
            let model = "\(candidate.vendor):\(candidate.product)"
            if deviceClass.matches(vendor: candidate.vendor, product: candidate.product) {
                matching.append((candidate, "\(model) is in DeviceClass \(className); \(reason)"))
            } else {
                skipped.append(NICDecision(candidate, "\(model) is not in DeviceClass \(className)"))
            }
        }
        return SelectionSupport.take(matching, count: request.nics, skipped: skipped)
    }
}

private let registration = PluginRegistration(policy: DevClassPolicy(), names: ["devClass"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
