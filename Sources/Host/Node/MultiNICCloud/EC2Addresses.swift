import Synchronization

/// Pod addresses as secondary private IPs of the ENI behind a NIC: the VPC delivers traffic only to addresses
/// assigned to an ENI. The ENI is found by the NIC's MAC address (`DescribeNetworkInterfaces`, filter
/// `mac-address`) and remembered.
public final class EC2Addresses: Sendable {
    let client: EC2Client
    private let interfaces = Mutex<[String: String]>([:])

    public init(client: EC2Client) {
        self.client = client
    }

    /// Assigns `addresses` to the ENI with `mac` (`AllowReassignment`: an address of a pod whose node died may
    /// still sit on another ENI of the cluster).
    public func assign(_ addresses: [String], mac: String) throws(CloudError) {
        guard !addresses.isEmpty else { return }
        let eni = try interface(mac: mac)
        var parameters = [("NetworkInterfaceId", eni), ("AllowReassignment", "true")]
        for (index, address) in addresses.enumerated() { parameters.append(("PrivateIpAddress.\(index + 1)", address)) }
        _ = try client.call("AssignPrivateIpAddresses", parameters)
    }

    /// Unassigns `addresses` from the ENI with `mac`. Addresses the ENI does not have (any more), or a MAC no ENI
    /// has, are success: when
    /// EC2 refuses the call as a whole for one of them, the ENI's addresses are read and the call made again with
    /// those it has.
    public func unassign(_ addresses: [String], mac: String) throws(CloudError) {
        guard !addresses.isEmpty else { return }
        let eni: String
        do {
            eni = try interface(mac: mac)
        } catch .noInterface {
            return  // no ENI has the MAC: nothing can be assigned to it
        }
        do {
            try unassign(addresses, eni: eni)
        } catch .api(_, "InvalidParameterValue", _) {
            let held = Set(try privateAddresses(eni: eni))
            try unassign(addresses.filter(held.contains), eni: eni)
        }
    }

    private func unassign(_ addresses: [String], eni: String) throws(CloudError) {
        guard !addresses.isEmpty else { return }
        var parameters = [("NetworkInterfaceId", eni)]
        for (index, address) in addresses.enumerated() { parameters.append(("PrivateIpAddress.\(index + 1)", address)) }
        _ = try client.call("UnassignPrivateIpAddresses", parameters)
    }

    /// Every private address of the ENI (primary first).
    public func privateAddresses(eni: String) throws(CloudError) -> [String] {
        let xml = try client.call("DescribeNetworkInterfaces", [("NetworkInterfaceId.1", eni)])
        var seen: [String] = []
        for address in EC2Client.elements("privateIpAddress", in: xml) where !seen.contains(address) { seen.append(address) }
        return seen
    }

    /// The ENI id of the NIC with `mac`.
    public func interface(mac: String) throws(CloudError) -> String {
        let key = mac.lowercased()
        if let known = interfaces.withLock({ $0[key] }) { return known }
        let xml = try client.call("DescribeNetworkInterfaces", [("Filter.1.Name", "mac-address"), ("Filter.1.Value.1", key)])
        guard let eni = EC2Client.element("networkInterfaceId", in: xml), eni.hasPrefix("eni-") else { throw .noInterface(mac: key) }
        interfaces.withLock { $0[key] = eni }
        return eni
    }
}

/// A cloud API that must know each pod address (``CloudAddressing``): the daemon calls it after an allocation
/// and after a release.
public protocol CloudAddressProvider: Sendable {
    /// Makes the cloud deliver `addresses` to the interface with `mac`.
    func assign(_ addresses: [String], mac: String) throws(CloudError)
    /// Takes them away again; addresses the interface does not have are success.
    func unassign(_ addresses: [String], mac: String) throws(CloudError)
}

extension EC2Addresses: CloudAddressProvider {}
