import MultiNICCore

/// aws-ipvlan: ipvlan pod interfaces on EC2 ENIs. The VPC delivers traffic only to addresses assigned to an ENI,
/// so the node daemon assigns each allocated pod address as a secondary private IP of the ENI behind the NIC, and
/// unassigns it on release (``CloudAddressing``, provider `aws`). Pod addresses come from each ENI's own VPC subnet
/// (host-subnet mode: `subnet: ""`) through multi-NIC IPAM, never from the four first addresses of a subnet or its
/// last (AWS reserves them). The pod interface itself is a plain ipvlan (delegate or native attach).
struct AWSIPVLANBackend: LinkBackedPlugin {
    let link = LinkBackend(type: "ipvlan", modes: ["l2", "l3", "l3s"])

    /// AWS reserves the network address, the VPC router, DNS, one for future use, and the broadcast address.
    static let cloud = CloudAddressing(provider: "aws", reservedAtStart: 4, reservedAtEnd: 1)
    static let multiNICIPAM = "multi-nic-ipam"

    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        var rendering = try link.render(input)
        rendering.plugin["type"] = .string("aws-ipvlan")
        var issues: [FieldIssue] = []
        let spec = input.network.spec
        if !spec.subnet.isEmpty {
            issues.append(FieldIssue("spec.subnet", "aws-ipvlan takes pod addresses from each ENI's VPC subnet: set subnet to \"\" "
                + "(host-subnet mode); the VPC does not route \(spec.subnet)"))
        }
        let ipamType = (try? JSONValue.parse(spec.ipam))?.objectValue?["type"]?.stringValue ?? ""
        if ipamType != Self.multiNICIPAM || spec.multiNICIPAM == false {
            issues.append(FieldIssue("spec.ipam", "aws-ipvlan needs type \(Self.multiNICIPAM) (and multiNICIPAM not false): the node "
                + "daemon assigns the addresses it allocates to the ENI, and no other IPAM tells it which (type is \"\(ipamType)\")"))
        }
        guard issues.isEmpty else { throw .invalidArguments(issues) }
        rendering.cloud = Self.cloud
        return rendering
    }
}

private let registration = PluginRegistration(backend: AWSIPVLANBackend(), names: ["aws-ipvlan"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
