#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// The `multi-nic` NetConf: the NAD config MultiNIC renders (``NADConfig``, decoded once) plus what Multus injects
/// (`runtimeConfig`, `args.cni` with the pod annotation's cni-args, `prevResult`). Keys that would choose a file, a
/// socket or a program (`daemonSocket`, `cniStateDir`, `logFile`) are not read: a NetConf is written by namespace
/// users.
public struct MultiNICNetConf: Sendable, Hashable {
    /// The NAD's config, typed.
    public var nad: NADConfig
    /// The pod's cni-args (`nics`, `masters`, `class`, `target`).
    public var podArgs: PodRequest

    public var cniVersion: String { nad.cniVersion }
    /// The network (NAD) name: the daemon's `def`.
    public var name: String { nad.name }
    /// The IPAM section as given.
    public var ipam: JSONValue? { nad.ipam }
    /// The main plugin's config from the NAD.
    public var plugin: [String: JSONValue] { nad.plugin }
    public var masterNets: [String] { nad.masterNets }
    public var multiNICIPAM: Bool { nad.multiNICIPAM }
    public var attachPolicy: AttachPolicySpec? { nad.attachPolicy }
    public var resourceNames: [String] { nad.resourceNames }
    /// `ipam.routes` of a multi-nic-ipam network, for every pod interface.
    public var routes: [PodRoute] { nad.routes }
    public var runtimeConfig: JSONValue? { nad.extra["runtimeConfig"] }
    public var prevResult: JSONValue? { nad.extra["prevResult"] }
    /// The device Multus hands this ADD: `runtimeConfig.deviceID` (the `deviceID` capability), else the top-level
    /// `deviceID` Multus writes into the config when the NAD's `k8s.v1.cni.cncf.io/resourceName` matched a device of
    /// the pod. Checked when parsed (printable ASCII, at most 253 bytes).
    public let deviceID: String?
    /// The delegates' cniVersion: the `plugin` section's own (upstream's rule), else the NetConf's. Lets a 1.1.0
    /// NetConf drive plugins that speak 1.0.0.
    public var delegateVersion: String { plugin["cniVersion"]?.stringValue ?? cniVersion }
    /// `nativeAttach: false` keeps the delegate path for this network (a backend that can attach natively otherwise
    /// does, in the daemon). nil when the NetConf does not say.
    public var nativeAttach: Bool? { nad.nativeAttach }
    /// Keys of the document this type does not model (`master`, `masters`, `cni.dev/valid-attachments`, …).
    public var extra: [String: JSONValue] { nad.extra }

    /// Parses stdin; errors are CNI error 6 (not JSON) or 7 (invalid config) naming the field.
    public init(stdin: [UInt8]) throws(CNIError) {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(stdin))
        } catch {
            throw CNIError(CNIError.decodingFailure, "network config on stdin is not valid JSON")
        }
        guard json.objectValue != nil else {
            throw CNIError(CNIError.decodingFailure, "network config must be a JSON object")
        }
        do {
            nad = try NADConfig(json: json)
        } catch {
            throw CNIError(CNIError.invalidConfig, "network config: \(error)")
        }
        guard !nad.cniVersion.isEmpty else { throw CNIError(CNIError.invalidConfig, "network config: cniVersion is required") }
        guard CNIVersion.supported.contains(nad.cniVersion) else {
            throw CNIError(CNIError.incompatibleVersion, "cniVersion \(LogText.escaped(nad.cniVersion, limit: 32)) is not supported",
                           details: "supported: " + CNIVersion.supported.joined(separator: ", "))
        }
        guard !nad.name.isEmpty else { throw CNIError(CNIError.invalidConfig, "network config: name is required") }
        // SPEC: a network name is alphanumerics plus `_ . -`; it names files and the daemon's pools, so it is checked.
        if let problem = SafeName.problem(nad.name) {
            throw CNIError(CNIError.invalidConfig, "network config: name \(problem)")
        }
        let deviceID = nad.extra["runtimeConfig"]?.objectValue?["deviceID"] ?? nad.extra["deviceID"]
        switch deviceID {
        case nil, .null?: self.deviceID = nil
        case .string(let id)? where !id.isEmpty && id.utf8.count <= 253
            && id.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 32 && $0.value < 127 }):
            self.deviceID = id
        default:
            throw CNIError(CNIError.invalidConfig, "network config: deviceID must be a string of 1-253 printable ASCII characters")
        }
        do {
            podArgs = try PodRequest(cniArgs: nad.extra["args"]?.objectValue?["cni"])
        } catch {
            throw CNIError(CNIError.invalidConfig, "pod cni-args: \(error)")
        }
    }
}
