import MultiNICCore
import MultiNICDaemonClient

/// Daemon calls both CNI binaries make the same way.
enum DaemonCalls {
    /// CNI GC: reads `cni.dev/valid-attachments` (every entry needs containerID and ifname, or nothing is released)
    /// and asks the daemon to release everything else of `network`. Returns the valid attachments.
    static func garbageCollect(_ client: DaemonClient, network: String, conf: [String: JSONValue]) throws(CNIError) -> [ValidAttachment] {
        var valid: [ValidAttachment] = []
        for item in conf["cni.dev/valid-attachments"]?.arrayValue ?? [] {
            guard let fields = item.objectValue, let container = fields["containerID"]?.stringValue,
                  let ifName = fields["ifname"]?.stringValue else {
                throw CNIError(CNIError.invalidConfig, "cni.dev/valid-attachments: every entry needs containerID and ifname")
            }
            valid.append(ValidAttachment(containerID: container, ifname: ifName))
        }
        do {
            _ = try client.garbageCollect(GCRequest(network: network, validAttachments: valid))
        } catch {
            throw error.cniError
        }
        return valid
    }

    /// The addresses of `expected` the daemon does not hold for this container and interface (CHECK).
    static func unheldAddresses(_ expected: CNIResult, client: DaemonClient, network: String,
                                arguments: CNIArguments) throws(CNIError) -> [String] {
        let held: [IPAllocation]
        do {
            // The result's address per pod interface: a pod of the original holds its addresses by name until
            // its first CHECK hands them to this container.
            var claims: [String: String] = [:]
            for ip in expected.ips {
                guard let index = ip.interface, expected.interfaces.indices.contains(index) else { continue }
                claims[expected.interfaces[index].name] = ip.address.address.description
            }
            held = try client.leases(LeaseQuery(network: network, containerID: arguments.containerID, ifName: arguments.ifName,
                                                namespace: arguments.args["K8S_POD_NAMESPACE"], pod: arguments.args["K8S_POD_NAME"],
                                                claims: claims.isEmpty ? nil : claims))
        } catch {
            throw error.cniError
        }
        let addresses = Set(held.compactMap { $0.podAddress?.address })
        return expected.ips.filter { !addresses.contains($0.address.address) }.map(\.address.description)
    }
}
