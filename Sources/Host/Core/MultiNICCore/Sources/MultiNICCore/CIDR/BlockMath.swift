/// Pure block arithmetic shared by the CIDR engine and IPPool derivation.
public enum BlockMath {
    /// A block is *tabu* when an exclude at least as large as the block contains it; the block is then never
    /// handed to an interface or host. (Smaller excludes are pushed down to the IPPool instead.)
    public static func isTabu(_ block: IPNetwork, excludes: [IPNetwork]) -> Bool {
        coveringExclude(of: block, excludes: excludes) != nil
    }

    /// The exclude that makes `block` tabu, if any.
    public static func coveringExclude(of block: IPNetwork, excludes: [IPNetwork]) -> IPNetwork? {
        excludes.first { $0.prefixLength <= block.prefixLength && $0.contains(block.address) }
    }

    /// The excludes strictly smaller than `pod` that lie inside it, in address order: they become the
    /// IPPool's `excludes`.
    public static func poolExcludes(of pod: IPNetwork, excludes: [IPNetwork]) -> [IPNetwork] {
        excludes.filter { $0.prefixLength > pod.prefixLength && pod.contains($0.address) }.sorted()
    }

    /// Parses `excludeCIDRs` entries; a bare address is a /32 (or /128). The address is normalised.
    public static func parseExcludes(_ texts: [String]) -> Result<[IPNetwork], FieldIssue> {
        var result: [IPNetwork] = []
        for (index, text) in texts.enumerated() {
            switch IPNetwork.parse(text, bareAddressAsHost: true) {
            case .success(let network): result.append(network.normalized)
            case .failure(let error): return .failure(FieldIssue("spec.ipam.excludeCIDRs[\(index)]", error.description))
            }
        }
        return .success(result)
    }

    /// The IPPool name of a pod block: `<network>-<address>-<prefix>`, e.g. `net-192.168.0.64-26`. IPv6
    /// groups are written in full and joined by `-` (`net-fd00-1-0-0-0-0-0-0-64`) so the name stays a valid
    /// Kubernetes object name.
    public static func poolName(network: String, podCIDR: IPNetwork) -> String {
        switch podCIDR.family {
        case .v4:
            // Written in one pass into one allocation: this runs once per pod block whenever a CIDR is written.
            return String(unsafeUninitializedCapacity: network.utf8.count + 20) { buffer in
                var position = buffer.initialize(fromContentsOf: network.utf8)
                buffer[position] = UInt8(ascii: "-")
                position += 1
                IPAddressFormatter.writeV4(UInt32(truncatingIfNeeded: podCIDR.address.value), separator: UInt8(ascii: "-"),
                                           suffix: podCIDR.prefixLength, into: buffer, at: &position)
                return position
            }
        case .v6:
            let groups = IPAddressFormatter.groups(podCIDR.address.value).map { String($0, radix: 16) }
            return network + "-" + groups.joined(separator: "-") + "-" + String(podCIDR.prefixLength)
        }
    }
}
