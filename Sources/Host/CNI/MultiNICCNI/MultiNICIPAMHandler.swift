import MultiNICCore
import MultiNICDaemonClient

/// `multi-nic-ipam`: the IPAM of a single standard plugin (ipvlan, macvlan, …) backed by the node daemon. ADD asks for
/// one address per master (the plugin's `master`, or the `masters` list `multi-nic` injects) and returns them as an
/// IPAM result with the `routes` and `dns` of the ipam section; DEL releases them (queued when the daemon is down).
public struct MultiNICIPAMHandler: CNIHandler {
    /// The `multi-nic` handler on the same node paths (socket and state directory; STATUS is shared).
    let node: MultiNICHandler

    public init(defaultSocket: String = DaemonAPI.nodeSocket,
                defaultStateDirectory: String = PendingReleases.defaultCNIStateDirectory) {
        node = MultiNICHandler(defaultSocket: defaultSocket, defaultStateDirectory: defaultStateDirectory)
    }

    /// The parts of the parent plugin's config this IPAM reads.
    struct Config {
        var cniVersion: String
        var network: String
        var masters: [String]
        var ipam: [String: JSONValue]
        var prevResult: JSONValue?

        init(_ stdin: [UInt8]) throws(CNIError) {
            // The shared NetConf reader checks cniVersion, name and the JSON shape; multi-NIC fields are simply absent.
            let conf = try MultiNICNetConf(stdin: stdin)
            cniVersion = conf.cniVersion
            network = conf.name
            ipam = conf.ipam?.objectValue ?? [:]
            if let master = conf.extra["master"] {
                guard let name = master.stringValue, !name.isEmpty else {
                    throw CNIError(CNIError.invalidConfig, "network config: master must be a non-empty string")
                }
                masters = [name]
            } else {
                masters = conf.extra["masters"]?.arrayValue?.compactMap(\.stringValue).filter { !$0.isEmpty } ?? []
            }
            prevResult = conf.prevResult
        }
    }

    /// The daemon's socket comes from the binary's environment only (never from the NetConf or its ipam section).
    private func client(_ config: Config) -> DaemonClient { DaemonClient(socketPath: node.defaultSocket) }

    /// Pod interface per master: `CNI_IFNAME` for one, `<ifname>-<k>` for several.
    static func ifNames(_ arguments: CNIArguments, masters: [String]) -> [String] {
        masters.count == 1 ? [arguments.ifName] : masters.indices.map { "\(arguments.ifName)-\($0)" }
    }

    public func add(_ arguments: CNIArguments, stdin: [UInt8]) throws -> String {
        let config = try Config(stdin)
        guard !config.masters.isEmpty else {
            throw CNIError(CNIError.invalidConfig, "network config: multi-nic-ipam needs the plugin's master (or masters)")
        }
        let request = AllocateRequest(pod: arguments.args["K8S_POD_NAME"] ?? "", namespace: arguments.args["K8S_POD_NAMESPACE"] ?? "",
                                      host: "", def: config.network, masters: config.masters, containerID: arguments.containerID,
                                      ifNames: Self.ifNames(arguments, masters: config.masters), podUID: arguments.args["K8S_POD_UID"])
        let routes: [PodRoute]
        do {
            routes = try config.ipam["routes"].map { try $0.decode([PodRoute].self) } ?? []
        } catch {
            throw CNIError(CNIError.invalidConfig, "network config: ipam.routes: \(DecodingErrorText.describe(error))")
        }
        let allocations: [IPAllocation]
        do {
            allocations = try client(config).allocate(request)
        } catch {
            throw error.cniError
        }
        var result = CNIResult(dns: config.ipam["dns"])
        for master in config.masters {
            guard let address = allocations.first(where: { $0.interface == master })?.podAddress else {
                _ = try? client(config).deallocate(request)
                throw CNIError(CNIError.ioFailure, "multi-nicd returned no address for \(master)")
            }
            result.ips.append(CNIResult.IPConfig(address: address))
        }
        result.routes += routes.map { CNIResult.Route(dst: $0.destination, gw: $0.gateway) }
        return result.json(version: config.cniVersion).description
    }

    public func delete(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try Config(stdin)
        let request = DetachRequest(containerID: arguments.containerID, network: config.network, ifName: arguments.ifName,
                                    cniVersion: config.cniVersion, plugin: [:],
                                    namespace: arguments.args["K8S_POD_NAMESPACE"], pod: arguments.args["K8S_POD_NAME"])
        do {
            _ = try client(config).detach(request)
        } catch {
            // DEL never fails: the daemon replays the queued release when it is back.
            try? AttachmentStore(directory: node.defaultStateDirectory).queueRelease(request)
        }
    }

    /// CHECK: every address of `prevResult` is still held by the daemon for this container and interface.
    public func check(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try Config(stdin)
        guard CNIVersion.hasCheck(config.cniVersion) else {
            throw CNIError(CNIError.incompatibleVersion, "CHECK needs cniVersion 0.4.0 or later, not \(config.cniVersion)")
        }
        guard let previous = config.prevResult else {
            throw CNIError(CNIError.invalidConfig, "network config: prevResult is required for CHECK")
        }
        let expected = try CNIResult.parse(previous)
        let missing = try DaemonCalls.unheldAddresses(expected, client: client(config), network: config.network, arguments: arguments)
        guard missing.isEmpty else {
            throw CNIError(MultiNICHandler.checkFailed, "multi-nicd holds no lease for \(missing.joined(separator: ", "))")
        }
    }

    /// STATUS: the daemon answers and has a pool of this network with a free address.
    public func status(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        try node.status(
            arguments, stdin: Self.asMultiNIC(try Config(stdin), stdin: stdin))
    }

    /// GC: the daemon releases every address of this network outside the valid attachments.
    public func gc(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try Config(stdin)
        _ = try DaemonCalls.garbageCollect(client(config), network: config.network, conf: (try MultiNICNetConf(stdin: stdin)).extra)
    }

    /// The same request as a multi-NIC NetConf (name, version) for the shared STATUS logic.
    private static func asMultiNIC(_ config: Config, stdin: [UInt8]) -> [UInt8] {
        let object: [String: JSONValue] = ["cniVersion": .string(config.cniVersion), "name": .string(config.network)]
        return Array(JSONValue.object(object).description.utf8)
    }
}
