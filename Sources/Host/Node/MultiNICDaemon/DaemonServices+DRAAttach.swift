import Foundation
import Logging
import MultiNICCore
import MultiNICIPAM
import MultiNICPluginHost

/// Log lines of DRA mode's attachments.
private let draLog = Logger(label: "multi-nicd.dra")

/// DRA mode's CNI ADD: the pod's prepared claim decides the NICs and their addresses (no policy, no allocation),
/// and the claim's status then says what the pod got on each (KEP-4817 `networkData`).
extension DaemonServices {
    func attachPrepared(_ claim: PreparedClaim, leases: [MultiNICIPAM.Lease], request: AttachmentRequest,
                        backend: any MainPlugin) async throws(DaemonError) -> [AttachedNIC] {
        let attached = try await configure(leases.map { (deviceID: nil, lease: $0) }, request: request, backend: backend)
        guard let source = resourceClaimSource else { return attached }
        let now = Date().formatted(.iso8601)
        let devices = zip(claim.devices.filter { $0.network == request.query.network }, attached).map { nic, pod in
            var networkData: [String: JSONValue] = ["interfaceName": .string(pod.ifName),
                                                    "ips": .array([pod.address].compactMap { $0.map { .string($0.description) } })]
            if let mac = pod.mac { networkData["hardwareAddress"] = .string(mac) }
            return JSONValue.object([
                "driver": .string(claim.driver), "pool": .string(configuration.nodeName), "device": .string(nic.device),
                "conditions": .array([.object([
                    "type": .string("Ready"), "status": .string("True"), "reason": .string("Attached"),
                    "message": .string("\(pod.ifName) of pod \(request.query.pod.namespace)/\(request.query.pod.name) on \(nic.master)"),
                    "lastTransitionTime": .string(now),
                ])]),
                "networkData": .object(networkData),
            ])
        }
        do {
            try await source.writeDeviceStatus(namespace: claim.namespace, name: claim.name, driver: claim.driver, devices: devices)
        } catch {
            // The pod has its interfaces; the status is what others read about them.
            draLog.warning("ResourceClaim \(claim.namespace)/\(claim.name): \(error.description)")
        }
        return attached
    }
}
