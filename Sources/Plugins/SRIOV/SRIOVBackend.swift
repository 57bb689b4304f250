import MultiNICCore

/// SR-IOV: pods get a virtual function of the selected NIC. Renders the sriov CNI config, the resourceName
/// annotation, and the SR-IOV network operator's SriovNetworkNodePolicy (unless `resourceName` names an existing
/// pool) and SriovNetwork. The delegate is addressed by the VF's PCI address (`deviceID`).
struct SRIOVBackend: MainPlugin {
    static let operatorNamespace = "openshift-sriov-network-operator"
    static let apiVersion = "sriovnetwork.openshift.io/v1"
    static let resourcePrefix = "openshift.io/"
    static let capableNodeLabel = "feature.node.kubernetes.io/network-sriov.capable"
    static let generatedLabels = [NetworkAttachmentDefinitionSpec.generatedLabel: "true"]

    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        let network = input.network
        let spec = network.spec.plugin
        var args = PluginArguments(spec.args, backend: "sriov")
        // Network side: what the sriov CNI gets.
        var plugin: [String: JSONValue] = ["cniVersion": .string(spec.cniVersion), "type": .string("sriov")]
        var networkSpec: [String: JSONValue] = [:]
        if let vlan = args.integer("vlan", range: 0...4095) {
            plugin["vlan"] = .integer(Int64(vlan))
            networkSpec["vlan"] = .integer(Int64(vlan))
        }
        if let qos = args.integer("vlanQoS", range: 0...7) {
            plugin["vlanQoS"] = .integer(Int64(qos))
            networkSpec["vlanQoS"] = .integer(Int64(qos))
        }
        for (key, cniKey, networkKey) in [("spoofchk", "spoofchk", "spoofChk"), ("trust", "trust", "trust")] {
            if let flag = args.boolean(key) {
                plugin[cniKey] = .string(flag ? "on" : "off")
                networkSpec[networkKey] = .string(flag ? "on" : "off")
            }
        }
        for (keys, cniKey, networkKey) in [(["min_tx_rate", "minTxRate"], "min_tx_rate", "minTxRate"),
                                           (["max_tx_rate", "maxTxRate"], "max_tx_rate", "maxTxRate")] {
            if let rate = args.integer(keys[0], keys[1], range: 0...10_000_000) {
                plugin[cniKey] = .integer(Int64(rate))
                networkSpec[networkKey] = .integer(Int64(rate))
            }
        }
        // Node side: the VF pool.
        let givenResource = args.string("resourceName")
        let resourceName = givenResource ?? Self.resourceName(for: network.name)
        var policySpec: [String: JSONValue] = [
            "resourceName": .string(resourceName),
            "nodeSelector": .object([Self.capableNodeLabel: .string("true")]),
            "numVfs": .integer(Int64(args.integer("numVfs", range: 1...256) ?? 1)),
        ]
        if let priority = args.integer("priority", range: 0...99) { policySpec["priority"] = .integer(Int64(priority)) }
        if let mtu = args.integer("mtu", range: 68...65535) { policySpec["mtu"] = .integer(Int64(mtu)) }
        if let rdma = args.boolean("isRdma") { policySpec["isRdma"] = .bool(rdma) }
        if let vhost = args.boolean("needVhostNet") { policySpec["needVhostNet"] = .bool(vhost) }
        var warnings = try args.finish()
        // Every master NIC's PCI address on every host (upstream kept one per network: the last host's).
        let rootDevices = Array(Set(input.masterInterfaces.map(\.interface.pciAddress).filter { !$0.isEmpty })).sorted()
        policySpec["nicSelector"] = .object(["rootDevices": .array(rootDevices.map(JSONValue.string))])
        networkSpec["resourceName"] = .string(resourceName)

        var dependents: [DependentResource] = []
        if givenResource == nil {
            if rootDevices.isEmpty {
                warnings.append(FieldIssue("spec.plugin", "no PCI address is known for any master NIC: the"
                    + " SriovNetworkNodePolicy selects no device"))
            }
            dependents.append(DependentResource(policyReference(network.name), labels: Self.generatedLabels,
                                                spec: policySpec))
        }
        dependents.append(DependentResource(networkReference(network.name), labels: Self.generatedLabels,
                                            spec: networkSpec))
        return BackendRendering(
            plugin: plugin, annotations: [NetworkAttachmentDefinitionSpec.resourceNameAnnotation: Self.resourcePrefix + resourceName],
            dependents: dependents, warnings: warnings)
    }

    func cleanup(for network: MultiNicNetwork) -> [ResourceReference] {
        // The policy is ours only when we generated it (no resourceName given).
        network.spec.plugin.args?["resourceName"] == nil
            ? [networkReference(network.name), policyReference(network.name)] : [networkReference(network.name)]
    }

    func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue {
        guard let deviceID = attachment.deviceID, !deviceID.isEmpty else {
            throw .missingInput("sriov needs the VF's PCI address (deviceID) for \(attachment.master); does the pod"
                + " request the network's resource?")
        }
        var fields = DelegateConfig.carriedFields(of: attachment.plugin)
        fields["deviceID"] = .string(deviceID)
        return DelegateConfig.make(type: "sriov", attachment: attachment, fields: fields)
    }

    /// The generated device-plugin resource name: the network name without `-` and `.`.
    static func resourceName(for network: String) -> String {
        network.filter { $0 != "-" && $0 != "." }
    }

    private func policyReference(_ network: String) -> ResourceReference {
        ResourceReference(apiVersion: Self.apiVersion, kind: "SriovNetworkNodePolicy", namespace: Self.operatorNamespace,
                          name: network)
    }

    private func networkReference(_ network: String) -> ResourceReference {
        ResourceReference(apiVersion: Self.apiVersion, kind: "SriovNetwork", namespace: Self.operatorNamespace,
                          name: network + "-net")
    }
}

private let registration = PluginRegistration(backend: SRIOVBackend(), names: ["sriov"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
