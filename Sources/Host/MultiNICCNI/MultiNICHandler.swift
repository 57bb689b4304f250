#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore

/// The `multi-nic` CNI plugin: one round trip to the local daemon (`/attach`: NICs, addresses and delegate configs),
/// then one delegate per NIC as `<ifname>-<k>`. ADD is all or nothing; DEL always succeeds once nothing is left.
public struct MultiNICHandler: CNIHandler {
    /// Socket used when the NetConf names none.
    public let defaultSocket: String

    public init(defaultSocket: String = "/run/multinic/multi-nicd.sock") {
        self.defaultSocket = defaultSocket
    }

    private func client(_ config: MultiNICNetConf) -> DaemonClient {
        DaemonClient(socketPath: config.daemonSocket ?? defaultSocket)
    }

    /// CNI_ARGS for delegates: the pod's, with IgnoreUnknown=1 so strict IPAM plugins (static) accept the K8S_* keys.
    private static func cniArgs(_ arguments: CNIArguments) -> String {
        var args = arguments.args
        args["IgnoreUnknown"] = "1"
        return args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    public func add(_ arguments: CNIArguments, stdin: [UInt8]) async throws -> String {
        let config = try MultiNICNetConf(stdin: stdin)
        let podArgs = config.podArgs
        let request = AttachRequest(
            pod: arguments.args["K8S_POD_NAME"] ?? "", namespace: arguments.args["K8S_POD_NAMESPACE"] ?? "",
            podUID: arguments.args["K8S_POD_UID"], containerID: arguments.containerID, ifName: arguments.ifName,
            network: config.name, cniVersion: config.cniVersion, plugin: config.plugin, masterNets: config.masterNets,
            attachPolicy: config.attachPolicy, resourceNames: config.resourceNames.isEmpty ? nil : config.resourceNames,
            args: SelectArgs(nics: podArgs.nics, masters: podArgs.masters.isEmpty ? nil : podArgs.masters,
                             target: podArgs.target, class: podArgs.deviceClass))
        let attached: AttachResponse
        do {
            attached = try client(config).post(DaemonAPI.attachPath, request, as: AttachResponse.self)
        } catch {
            throw error.cniError
        }
        let runner = DelegateRunner(searchPath: arguments.path)
        var result = CNIResult()
        var created: [AttachedNIC] = []
        for nic in attached.nics {
            do {
                guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else {
                    throw CNIError(CNIError.invalidConfig, "no delegate config for \(nic.ifName) on \(nic.master)")
                }
                created.append(nic)
                let output = try runner.run(type, command: .add, containerID: arguments.containerID, netns: arguments.netns,
                                            ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
                guard let output else { throw CNIError(CNIError.decodingFailure, "\(type) printed no result for \(nic.ifName)") }
                result.append(try CNIResult.parse(output))
            } catch {
                // All or nothing: remove what exists, release every address, report the original failure.
                rollback(created, arguments: arguments, runner: runner, config: config)
                throw error
            }
        }
        return result.json(version: config.cniVersion).description
    }

    private func rollback(_ created: [AttachedNIC], arguments: CNIArguments, runner: DelegateRunner, config: MultiNICNetConf) {
        for nic in created.reversed() {
            guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else { continue }
            _ = try? runner.run(type, command: .del, containerID: arguments.containerID, netns: arguments.netns,
                                ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
        }
        _ = try? client(config).post(DaemonAPI.detachPath, DetachRequest(
            containerID: arguments.containerID, network: config.name, cniVersion: config.cniVersion, plugin: config.plugin),
            as: AttachResponse.self)
    }

    public func delete(_ arguments: CNIArguments, stdin: [UInt8]) async throws {
        let config = try MultiNICNetConf(stdin: stdin)
        let detached: AttachResponse
        do {
            detached = try client(config).post(DaemonAPI.detachPath, DetachRequest(
                containerID: arguments.containerID, network: config.name, cniVersion: config.cniVersion, plugin: config.plugin),
                as: AttachResponse.self)
        } catch {
            // Nothing more can be learnt without the daemon; DEL is best effort and must not fail.
            return
        }
        let runner = DelegateRunner(searchPath: arguments.path)
        for nic in detached.nics {
            guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else { continue }
            // A link or netns that is already gone is not an error for DEL.
            _ = try? runner.run(type, command: .del, containerID: arguments.containerID,
                                netns: arguments.netns, ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
        }
    }

    public func check(_ arguments: CNIArguments, stdin: [UInt8]) async throws {
        throw CNIError(CNIError.unsupportedField, "CHECK is not supported by this build of multi-nic yet")
    }

    public func status(_ arguments: CNIArguments, stdin: [UInt8]) async throws {
        let config = try MultiNICNetConf(stdin: stdin)
        let status: DaemonStatus
        do {
            status = try client(config).get(DaemonAPI.statusPath, as: DaemonStatus.self)
        } catch {
            throw CNIError(CNIError.notAvailable, "multi-nicd is not available", details: error.description)
        }
        let own = status.pools.filter { $0.network == config.name }
        if own.isEmpty || own.allSatisfy({ UInt128($0.inUse + $0.quarantined) >= (UInt128($0.capacity) ?? 0) }) {
            throw CNIError(CNIError.notAvailable, "no free address for network \(config.name) on \(status.node)")
        }
        if !status.degraded.isEmpty {
            throw CNIError(CNIError.degraded, "multi-nicd is degraded", details: status.degraded.joined(separator: "; "))
        }
    }

    public func gc(_ arguments: CNIArguments, stdin: [UInt8]) async throws {
        let config = try MultiNICNetConf(stdin: stdin)
        var valid: [ValidAttachment] = []
        if case .array(let items)? = config.raw["cni.dev/valid-attachments"] {
            for item in items {
                guard let fields = item.objectValue, let container = fields["containerID"]?.stringValue,
                      let ifName = fields["ifname"]?.stringValue else { continue }
                // The daemon keeps every per-NIC key (`<ifname>-<k>`) of a valid attachment.
                valid.append(ValidAttachment(containerID: container, ifname: ifName))
            }
        }
        do {
            _ = try client(config).post(DaemonAPI.gcPath, GCRequest(network: config.name, validAttachments: valid),
                                        as: [IPAllocation].self)
        } catch {
            throw error.cniError
        }
    }
}
