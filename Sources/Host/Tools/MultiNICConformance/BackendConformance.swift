import MultiNICCore
import MultiNICPluginHost
import MultiNICRender

/// A backend's render and delegate configs on the networks users write: the seed's `network.yaml` (IPv4, CNI
/// 0.3.0), the same at CNI 1.0.0, the IPv6 sample and a host-subnet network (`subnet: ""`, pod blocks carved from
/// the hosts' own networks) — each with `plugin.type` set to the backend. A backend that serves only host-subnet
/// networks (aws-ipvlan: the cloud routes only its subnets) may refuse the others naming `spec.subnet`: those are
/// reported skipped, and the host-subnet sample must pass.
enum BackendConformance {
    /// Keys of MultiNIC's own NetConf that a delegate plugin must never see (it would reject or misread them).
    static let multiNICOnlyKeys: Set<String> = NADConfig.modelledKeys
        .subtracting(["cniVersion", "name", "type", "ipam", "dns"]).union(["multiNicIPAM"])

    struct Sample {
        var label: String
        var network: MultiNicNetwork
        var hosts: [HostInterface]
        var address: String
    }

    static func samples(backend name: String) -> [Sample] {
        func network(_ subnet: String, ipam: String, cniVersion: String) -> MultiNicNetwork {
            MultiNicNetwork(metadata: ObjectMeta(name: "multi-nic-sample"), spec: MultiNicNetworkSpec(
                subnet: subnet, ipam: ipam, multiNICIPAM: true, plugin: PluginSpec(cniVersion: cniVersion, type: name),
                namespaces: ["default"]))
        }
        func hosts(_ nets: [(String, String)]) -> [HostInterface] {
            (1...2).map { host in
                let interfaces = nets.enumerated().map { index, net in
                    InterfaceInfo(interfaceName: "eth\(index + 1)", netAddress: net.0, hostIP: net.1 + "\(10 + host)",
                                  vendor: "15b3", product: "1019", pciAddress: "0000:00:0\(index + 4).0", sriovVFs: 8)
                }
                return HostInterface(metadata: ObjectMeta(name: "host-\(host)"),
                                     spec: HostInterfaceSpec(hostName: "host-\(host)", interfaces: interfaces))
            }
        }
        let seedIPAM = #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2,"vlanMode":"l3"}"#
        let v4 = hosts([("10.0.1.0/24", "10.0.1."), ("10.0.2.0/24", "10.0.2.")])
        return [
            Sample(label: "the seed network (CNI 0.3.0)", network: network("192.168.0.0/16", ipam: seedIPAM, cniVersion: "0.3.0"),
                   hosts: v4, address: "192.168.0.1/18"),
            Sample(label: "the seed network at CNI 1.0.0", network: network("192.168.0.0/16", ipam: seedIPAM, cniVersion: "1.0.0"),
                   hosts: v4, address: "192.168.0.1/18"),
            Sample(label: "the IPv6 sample", network: network("fd00:10::/48", ipam: #"{"type":"multi-nic-ipam","hostBlock":8,"interfaceBlock":2}"#,
                                                                cniVersion: "1.0.0"),
                   hosts: hosts([("fd00:1::/64", "fd00:1::"), ("fd00:2::/64", "fd00:2::")]), address: "fd00:10::1/50"),
            Sample(label: "the host-subnet sample", network: network("", ipam: #"{"type":"multi-nic-ipam","hostBlock":2,"interfaceBlock":0}"#,
                                                                      cniVersion: "1.0.0"),
                   hosts: v4, address: "10.0.1.4/24"),
        ]
    }

    static func render(_ backend: any MainPlugin, name: String) -> [ConformanceCheck] {
        var registry = PluginRegistry()
        do {
            try registry.register(PluginRegistration(backend: backend, names: [name], version: "verify"), path: "(verified)")
        } catch {
            return [ConformanceCheck("render", .failed, error.description)]
        }
        return samples(backend: name).flatMap { sample in check(sample, backend: backend, name: name, registry: registry) }
    }

    static func check(_ sample: Sample, backend: any MainPlugin, name: String, registry: PluginRegistry) -> [ConformanceCheck] {
        let rendered: RenderedNetwork
        do {
            rendered = try NetworkRenderer(registry: registry).render(sample.network, hosts: sample.hosts, clusterNamespaces: ["default"])
        } catch .backend(.invalidArguments(let issues)) where !sample.network.spec.subnet.isEmpty && issues.allSatisfy({ $0.path == "spec.subnet" }) {
            return [ConformanceCheck("render \(sample.label)", .skipped,
                                     "the backend serves host-subnet networks only: \(issues.map(\.message).joined(separator: "; "))")]
        } catch {
            return [ConformanceCheck("render \(sample.label)", .failed, "\(error)")]
        }
        guard let nad = rendered.attachments.first, let json = try? JSONValue.parse(nad.spec.config) else {
            return [ConformanceCheck("render \(sample.label)", .failed, "no NetworkAttachmentDefinition, or its config is not JSON")]
        }
        var checks: [ConformanceCheck] = []
        let config: NADConfig
        do {
            config = try NADConfig(json: json)
        } catch {
            return [ConformanceCheck("render \(sample.label): the NAD's config is a multi-nic NetConf", .failed, error.description)]
        }
        checks.append(.expect("render \(sample.label): the NAD's config is a multi-nic NetConf",
                              config.type == "multi-nic" && config.plugin["type"]?.stringValue == name,
                              "type \(config.type), plugin.type \(config.plugin["type"]?.description ?? "missing")"))
        guard let address = IPNetwork(sample.address) else { return checks }
        // With a VF's PCI address, as the daemon passes for a device-plugin backend (others ignore it).
        let attachment = NICAttachment(networkName: sample.network.metadata.name, cniVersion: sample.network.spec.plugin.cniVersion,
                                       plugin: config.plugin, master: "eth1", deviceID: "0000:00:04.2", address: address)
        do {
            let delegate = try backend.delegateConfig(for: attachment)
            checks.append(delegateProblems(delegate, attachment: attachment, address: address, label: sample.label))
            var delegated = attachment
            let section: JSONValue = .object(["type": .string("host-local"), "subnet": .string("10.9.0.0/24")])
            delegated.ipam = .delegated(section)
            let own = try backend.delegateConfig(for: delegated)
            checks.append(.expect("delegate config \(sample.label): a network's own IPAM section is passed as given",
                                  own.objectValue?["ipam"] == section, "ipam is \(own.objectValue?["ipam"]?.description ?? "missing")"))
        } catch {
            checks.append(ConformanceCheck("delegate config \(sample.label)", .failed, error.description))
        }
        return checks
    }

    /// A delegate config is a CNI NetConf of its own: `type`, the network's name and cniVersion, static IPAM with the
    /// allocated address, and none of MultiNIC's own keys.
    static func delegateProblems(_ delegate: JSONValue, attachment: NICAttachment, address: IPNetwork, label: String) -> ConformanceCheck {
        let name = "delegate config \(label): a NetConf of its own with the allocated address"
        guard let object = delegate.objectValue else { return ConformanceCheck(name, .failed, "not a JSON object") }
        var problems: [String] = []
        if (object["type"]?.stringValue ?? "").isEmpty { problems.append("no type") }
        if object["cniVersion"]?.stringValue != attachment.cniVersion { problems.append("cniVersion is not the network's") }
        if object["name"]?.stringValue != attachment.networkName { problems.append("name is not the network's") }
        let addresses = object["ipam"]?.objectValue?["addresses"]?.arrayValue?.compactMap { $0.objectValue?["address"]?.stringValue }
        if object["ipam"]?.objectValue?["type"]?.stringValue != "static" || addresses != [address.description] {
            problems.append("ipam is not static with \(address)")
        }
        let leaked = object.keys.filter { multiNICOnlyKeys.contains($0) }.sorted()
        if !leaked.isEmpty { problems.append("MultiNIC-only keys a delegate would misread: \(leaked.joined(separator: ", "))") }
        return .expect(name, problems.isEmpty, problems.joined(separator: "; "))
    }
}
