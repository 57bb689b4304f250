import MultiNICCore

/// host-device: the selected NIC itself moves into the pod (RDMA and Mellanox clusters give a pod a whole NIC or a
/// VF). The delegate is the reference `host-device` plugin, addressed by the NIC's name, or by the PCI address the
/// kubelet allocated (`deviceID`) when the network names a device-plugin resource. With multi-NIC IPAM each moved
/// NIC gets its pool address. One pod per NIC at a time (``WholeDeviceBackend``); on DEL the plugin moves the NIC
/// back under its own name, and multi-nicd restores its host addresses and state.
struct HostDeviceBackend: WholeDeviceBackend {
    func render(_ input: NetworkRenderInput) throws(PluginError) -> BackendRendering {
        let spec = input.network.spec.plugin
        let args = PluginArguments(spec.args, backend: "host-device")
        let plugin: [String: JSONValue] = ["cniVersion": .string(spec.cniVersion), "type": .string("host-device")]
        return BackendRendering(plugin: plugin, warnings: try args.finish())
    }

    func delegateConfig(for attachment: NICAttachment) throws(PluginError) -> JSONValue {
        var fields = DelegateConfig.carriedFields(of: attachment.plugin)
        if let deviceID = attachment.deviceID, !deviceID.isEmpty {
            guard Self.isPCIAddress(deviceID) else {
                throw .missingInput("host-device: deviceID \"\(deviceID)\" of \(attachment.master) is not a PCI address")
            }
            fields["pciBusID"] = .string(deviceID)
        } else {
            guard LinuxInterfaceName.isValid(attachment.master) else {
                throw .missingInput("host-device: \"\(attachment.master)\" is not a Linux interface name")
            }
            fields["device"] = .string(attachment.master)
        }
        return DelegateConfig.make(type: "host-device", attachment: attachment, fields: fields)
    }

    /// `dddd:bb:dd.f` in lower-case hex, as sysfs and the device plugins write a PCI address.
    static func isPCIAddress(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2 else { return false }
        let slot = parts[2].split(separator: ".", omittingEmptySubsequences: false)
        guard slot.count == 2, slot[0].count == 2, let function = Int(slot[1]), (0...7).contains(function) else { return false }
        let hex = Set("0123456789abcdef")
        return (parts[0] + parts[1] + slot[0]).allSatisfy { hex.contains($0) }
    }
}

private let registration = PluginRegistration(backend: HostDeviceBackend(), names: ["host-device"], version: "0.1.0")

/// The plugin's entry symbol (see ``PluginABI``).
@_cdecl("multinic_plugin_entry")
public func multinicPluginEntry(_ hostABI: UInt32, _ pluginABI: UnsafeMutablePointer<UInt32>?) -> UnsafeMutableRawPointer? {
    PluginABI.export(registration, hostABI: hostABI, pluginABI: pluginABI)
}
