#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore
import MultiNICDaemonClient

/// The `multi-nic` CNI plugin: one round trip to the local daemon (`/attach`: NICs, addresses and delegate configs),
/// then one delegate per NIC as `<ifname>-<k>` — or none, for the NICs the daemon configured itself (native attach).
/// ADD is all or nothing; DEL always succeeds once nothing is left.
public struct MultiNICHandler: CNIHandler {
    /// The daemon's socket (from the binary's environment, never from the NetConf).
    public let defaultSocket: String
    /// The node-local state directory (from the binary's environment, never from the NetConf).
    public let defaultStateDirectory: String

    public init(defaultSocket: String = DaemonAPI.nodeSocket,
                defaultStateDirectory: String = PendingReleases.defaultCNIStateDirectory) {
        self.defaultSocket = defaultSocket
        self.defaultStateDirectory = defaultStateDirectory
    }

    func client(_ config: MultiNICNetConf) -> DaemonClient {
        DaemonClient(socketPath: defaultSocket)
    }

    func store(_ config: MultiNICNetConf) -> AttachmentStore {
        AttachmentStore(directory: defaultStateDirectory)
    }

    /// CNI_ARGS for delegates: the pod's, with IgnoreUnknown=1 so strict IPAM plugins (static) accept the K8S_* keys.
    static func cniArgs(_ arguments: CNIArguments) -> String {
        var args = arguments.args
        args["IgnoreUnknown"] = "1"
        return args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    static func detachRequest(_ arguments: CNIArguments, _ config: MultiNICNetConf) -> DetachRequest {
        DetachRequest(containerID: arguments.containerID, network: config.name, ifName: arguments.ifName,
                      cniVersion: config.delegateVersion, plugin: config.plugin,
                      namespace: arguments.args["K8S_POD_NAMESPACE"], pod: arguments.args["K8S_POD_NAME"],
                      netns: arguments.netns.isEmpty ? nil : arguments.netns, nativeAttach: config.nativeAttach)
    }

    public func add(_ arguments: CNIArguments, stdin: [UInt8]) throws -> String {
        let config = try MultiNICNetConf(stdin: stdin)
        let podArgs = config.podArgs
        let request = AttachRequest(
            pod: arguments.args["K8S_POD_NAME"] ?? "", namespace: arguments.args["K8S_POD_NAMESPACE"] ?? "",
            podUID: arguments.args["K8S_POD_UID"], containerID: arguments.containerID, ifName: arguments.ifName,
            network: config.name, cniVersion: config.delegateVersion, plugin: config.plugin, masterNets: config.masterNets,
            attachPolicy: config.attachPolicy, resourceNames: config.resourceNames.isEmpty ? nil : config.resourceNames,
            args: SelectArgs(nics: podArgs.nics, masters: podArgs.masters.isEmpty ? nil : podArgs.masters,
                             target: podArgs.target, class: podArgs.deviceClass),
            routes: config.multiNICIPAM && !config.routes.isEmpty ? config.routes : nil,
            delegatedIPAM: config.multiNICIPAM ? nil : config.ipam,
            netns: arguments.netns.isEmpty ? nil : arguments.netns, nativeAttach: config.nativeAttach, deviceID: config.deviceID)
        let nics = try Self.attachRetryingWhenBusy(client(config), request)
        let runner = DelegateRunner(searchPath: arguments.path)
        var created: [AttachedNIC] = []
        do {
            guard !nics.isEmpty else {
                throw CNIError(CNIError.invalidConfig, "multi-nicd selected no NIC for network \(config.name)")
            }
            // Recorded before the first delegate runs: a DEL after a crash here still knows what to undo. NICs the
            // daemon configured itself are in its journal (written before their links were made) and need no
            // delegate at DEL: an all-native attachment has nothing to record here.
            if nics.contains(where: { $0.native != true }) {
                try store(config).save(CachedAttachment(network: config.name, containerID: arguments.containerID,
                                                        ifName: arguments.ifName, nics: nics))
            }
            var result = CNIResult()
            for nic in nics {
                if nic.native == true, let address = nic.address {
                    // The daemon configured it (native attach): the result a delegate would have printed.
                    created.append(nic)
                    result.append(CNIResult(interfaces: [.init(name: nic.ifName, mac: nic.mac, sandbox: arguments.netns)],
                                            ips: [.init(address: address, interface: 0)]))
                    continue
                }
                guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else {
                    throw CNIError(CNIError.invalidConfig, "no delegate config for \(nic.ifName) on \(nic.master)")
                }
                created.append(nic)
                let output = try runner.run(type, command: .add, containerID: arguments.containerID, netns: arguments.netns,
                                            ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
                guard let output else { throw CNIError(CNIError.decodingFailure, "\(type) printed no result for \(nic.ifName)") }
                let nicResult = try CNIResult.parse(output)
                guard !nicResult.ips.isEmpty else {
                    throw CNIError(CNIError.decodingFailure, "\(type) returned no address for \(nic.ifName)")
                }
                result.append(nicResult)
            }
            result.routes += try PodNamespace.installRoutes(arguments.netns, nics: nics)
            // The network's DNS (`spec.plugin.dns`): the delegates get static IPAM without it, the pod gets it here.
            if let dns = config.nad.dns, dns != DNSConfig() { result.dns = try? JSONValue.reencode(dns) }
            return result.json(version: config.cniVersion).description
        } catch {
            // All or nothing: remove what exists, release every address, report the original failure.
            rollback(created, arguments: arguments, runner: runner, config: config)
            throw error
        }
    }

    /// `/attach`, again while the daemon answers 503 (its native attaches are all in use): up to ~4 s with doubling
    /// pauses from 10 ms (with jitter), then CNI error 11 — the runtime retries the sandbox later.
    static func attachRetryingWhenBusy(_ client: DaemonClient, _ request: AttachRequest) throws(CNIError) -> [AttachedNIC] {
        var pause = 10_000.0  // µs
        var waited = 0.0
        while true {
            do {
                return try client.attach(request)
            } catch .rejected(status: 503, message: _) where waited < 4_000_000 {
                let delay = pause * Double.random(in: 0.5...1.5)
                usleep(UInt32(delay))
                waited += delay
                pause = min(pause * 2, 500_000)
            } catch {
                throw error.cniError
            }
        }
    }

    private func rollback(_ created: [AttachedNIC], arguments: CNIArguments, runner: DelegateRunner, config: MultiNICNetConf) {
        for nic in created.reversed() where nic.native != true {
            guard let delegate = nic.delegate, let type = delegate.objectValue?["type"]?.stringValue else { continue }
            _ = try? runner.run(type, command: .del, containerID: arguments.containerID, netns: arguments.netns,
                                ifName: nic.ifName, args: Self.cniArgs(arguments), config: delegate)
        }
        // The daemon removes the native NICs' links before it releases their addresses; whatever it could not remove
        // goes with the sweep.
        let released = release(arguments, config)
        if !arguments.netns.isEmpty && !Self.allRemovedNatively(released) {
            PodNamespace.removePerNICLinks(arguments.netns, ifName: arguments.ifName)
        }
        store(config).remove(network: config.name, containerID: arguments.containerID, ifName: arguments.ifName)
    }

    /// Whether the daemon's detach answer says it removed every per-NIC link itself (native attach).
    static func allRemovedNatively(_ released: [AttachedNIC]) -> Bool {
        !released.isEmpty && released.allSatisfy { $0.native == true }
    }

    /// Releases the attachment's addresses at the daemon, or queues the release when it does not answer.
    /// Returns the NICs the daemon released (with delegate configs it could rebuild).
    @discardableResult
    func release(_ arguments: CNIArguments, _ config: MultiNICNetConf) -> [AttachedNIC] {
        let request = Self.detachRequest(arguments, config)
        do {
            return try client(config).detach(request)
        } catch {
            // The daemon replays the queue when it is back; without multi-NIC IPAM it holds nothing to release.
            if config.multiNICIPAM { try? store(config).queueRelease(request) }
            return []
        }
    }
}
