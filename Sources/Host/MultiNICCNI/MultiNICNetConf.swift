#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// The `multi-nic` NetConf: the NAD config MultiNIC renders plus what Multus injects (`runtimeConfig`,
/// `args.cni` with the pod annotation's cni-args, `prevResult`). Keys that would choose a file, a socket or a program
/// (`daemonSocket`, `cniStateDir`, `logFile`) are not read: a NetConf is written by namespace users.
public struct MultiNICNetConf: Sendable, Hashable {
    public var cniVersion: String
    /// The network (NAD) name: the daemon's `def`.
    public var name: String
    public var type: String
    /// The IPAM section as given.
    public var ipam: JSONValue?
    /// The main plugin's config from the NAD.
    public var plugin: [String: JSONValue]
    public var subnet: String
    public var masterNets: [String]
    public var multiNICIPAM: Bool
    public var attachPolicy: AttachPolicySpec?
    public var resourceNames: [String]
    /// The pod's cni-args (`nics`, `masters`, `class`, `target`).
    public var podArgs: PodRequest
    public var runtimeConfig: JSONValue?
    public var prevResult: JSONValue?
    /// The delegates' cniVersion: the `plugin` section's own (upstream's rule), else the NetConf's. Lets a 1.1.0
    /// NetConf drive plugins that speak 1.0.0.
    public var delegateVersion: String { plugin["cniVersion"]?.stringValue ?? cniVersion }
    /// The whole document, for delegation of non-multi-NIC IPAM.
    public var raw: [String: JSONValue]

    /// Parses stdin; errors are CNI error 6 (not JSON) or 7 (invalid config) naming the field.
    public init(stdin: [UInt8]) throws(CNIError) {
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(stdin))
        } catch {
            throw CNIError(CNIError.decodingFailure, "network config on stdin is not valid JSON")
        }
        guard let object = json.objectValue else { throw CNIError(CNIError.decodingFailure, "network config must be a JSON object") }
        raw = object
        func string(_ key: String, required: Bool = false) throws(CNIError) -> String? {
            switch object[key] {
            case .string(let text)?: return text
            case nil, .null?:
                if required { throw CNIError(CNIError.invalidConfig, "network config: \(key) is required") }
                return nil
            case let other?: throw CNIError(CNIError.invalidConfig, "network config: \(key) must be a string, not \(other.typeName)")
            }
        }
        cniVersion = try string("cniVersion", required: true) ?? ""
        guard CNIVersion.supported.contains(cniVersion) else {
            throw CNIError(CNIError.incompatibleVersion, "cniVersion \(cniVersion) is not supported",
                           details: "supported: " + CNIVersion.supported.joined(separator: ", "))
        }
        name = try string("name", required: true) ?? ""
        // SPEC: a network name is alphanumerics plus `_ . -`; it names files and the daemon's pools, so it is checked.
        if let problem = SafeName.problem(name) {
            throw CNIError(CNIError.invalidConfig, "network config: name \(problem)")
        }
        type = try string("type") ?? "multi-nic"
        ipam = object["ipam"]
        plugin = object["plugin"]?.objectValue ?? [:]
        subnet = try string("subnet") ?? ""
        // The daemon socket, the state directory and the log file are never read from here: a NetConf is written by
        // namespace users (see "Threat model" in README.md); the binary takes them from its environment only.
        masterNets = Self.strings(object["masterNets"])
        resourceNames = Self.strings(object["resourceNames"])
        switch object["multiNICIPAM"] {
        case .bool(let flag)?: multiNICIPAM = flag
        case nil, .null?: multiNICIPAM = ipam == nil || ipam?.objectValue?["type"]?.stringValue == "multi-nic-ipam"
        case let other?: throw CNIError(CNIError.invalidConfig, "network config: multiNICIPAM must be a boolean, not \(other.typeName)")
        }
        if !multiNICIPAM && ipam?.objectValue?["type"]?.stringValue == nil {
            throw CNIError(CNIError.invalidConfig, "network config: ipam.type is required when multiNICIPAM is false")
        }
        if let policy = object["attachPolicy"]?.objectValue, let strategy = policy["strategy"]?.stringValue {
            attachPolicy = AttachPolicySpec(strategy: strategy, target: policy["target"]?.stringValue)
        }
        runtimeConfig = object["runtimeConfig"]
        prevResult = object["prevResult"]
        do {
            podArgs = try PodRequest(cniArgs: object["args"]?.objectValue?["cni"])
        } catch {
            throw CNIError(CNIError.invalidConfig, "pod cni-args: \(error)")
        }
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        if case .array(let items)? = value { return items.compactMap(\.stringValue) }
        return []
    }
}
