import ArgumentParser
import MultiNICCore
import MultiNICDiscovery
import MultiNICManifests
import MultiNICPluginHost

/// `multinicctl select`: dry-run the network's attach policy for one host and one pod request.
struct SelectCommand: OutputProducing {
    static let configuration = CommandConfiguration(
        commandName: "select", abstract: "Dry-run an attach policy: which NICs a pod would get on a host, and why.")

    @OptionGroup var input: NetworkFileOptions


    @Option(help: "The host: FILE:NAME (a HostInterface in FILE).")
    var host: String

    @Option(help: #"The pod's cni-args, e.g. '{"nics":2,"class":"highspeed","target":"50Gbps"}'."#)
    var podArgs: String?

    @Option(help: "DeviceClass resources for devClass.")
    var deviceClasses: String?

    @Option(help: "The pod's GPUs per NUMA node for topology, e.g. 0=4,1=2.")
    var gpusPerNUMA: String?

    @Option(help: "The pod's GPUs for topology by PCI address, e.g. 0000:18:00.0,0000:3b:00.0 (located in --sysfs-root).")
    var gpus: String?

    @Option(help: "sysfs root where --gpus are located (this host's by default).")
    var sysfsRoot = "/sys"

    @Option(help: "Pods already on each NIC, with the bandwidth promised to them, e.g. eth1=3@30Gbps,eth2=1.")
    var attachments: String?

    @OptionGroup var plugins: PluginOptions

    func execute() -> CommandOutput {
        CommandOutput.capturing { output in
            let network = try input.load(into: &output)
            let hostInterface = try NetworkInput.host(host)
            let request = try PodRequest(cniArgs: podArgs.map(parseArgs))
            let loaded = try plugins.load()
            for error in loaded.errors { output.note("warning: \(error)") }
            let strategy = network.spec.attachPolicy?.strategy ?? "none"
            let policy = try loaded.registry.policy(strategy)
            var classes: [String: DeviceClassSpec] = [:]
            if let deviceClasses {
                for item in try ManifestLoader.resources(DeviceClass.self, in: ManifestLoader.load(path: deviceClasses)) {
                    classes[item.name] = item.spec
                }
            }
            let loads = try parseLoads(attachments ?? "")
            let candidates = hostInterface.spec.interfaces.map { interface in
                NICCandidate(interface, attachments: loads[interface.interfaceName]?.pods ?? 0,
                             promisedMbps: loads[interface.interfaceName]?.mbps ?? 0)
            }
            let context = SelectionContext(
                masterNets: network.spec.masterNets ?? [], strategyTarget: network.spec.attachPolicy?.target,
                deviceClasses: classes, gpusPerNUMA: try parseGPUs(gpusPerNUMA ?? ""), gpus: try locateGPUs(gpus ?? ""))
            let selection = try policy.select(candidates, request: request, context: context)
            var rows = [["ORDER", "NIC", "NETWORK", "REASON"]]
            for (order, decision) in selection.chosen.enumerated() {
                rows.append([String(order + 1), decision.name, decision.netAddress, decision.reason])
            }
            for decision in selection.skipped {
                rows.append(["-", decision.name, decision.netAddress.isEmpty ? "-" : decision.netAddress, decision.reason])
            }
            output.stdout = "policy \(strategy) on \(hostInterface.hostSpec.hostName): \(selection.chosen.count) NIC(s) chosen\n"
                + CIDRTable.alignColumns(rows).joined(separator: "\n") + "\n"
        }
    }

    private func parseArgs(_ text: String) throws -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            throw CommandFailure(message: "error: --pod-args is not valid JSON")
        }
    }

    /// `0000:18:00.0,…` → each GPU's place on this host's PCIe tree.
    private func locateGPUs(_ text: String) throws -> [PCILocation] {
        let devices = PCIDevices(sysfsRoot: sysfsRoot)
        return try text.split(separator: ",").map { item in
            guard let address = PCILocation.normalizedAddress(String(item)) else {
                throw CommandFailure(message: "error: --gpus: \"\(item)\" is not a PCI address (0000:18:00.0)")
            }
            guard let location = devices.locate(address) else {
                throw CommandFailure(message: "error: --gpus: \(address) is not in \(sysfsRoot)/bus/pci/devices")
            }
            return location
        }
    }

    /// `0=4,1=2` → [0: 4, 1: 2].
    private func parseGPUs(_ text: String) throws -> [Int: Int] {
        var result: [Int: Int] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=")
            guard parts.count == 2, let node = Int(parts[0]), let count = Int(parts[1]), count >= 0 else {
                throw CommandFailure(message: "error: --gpus-per-numa: \"\(item)\" is not NODE=COUNT")
            }
            result[node] = count
        }
        return result
    }

    /// `eth1=3@30Gbps,eth2=1` → pods and promised Mbit/s per NIC.
    private func parseLoads(_ text: String) throws -> [String: (pods: Int, mbps: Int)] {
        var result: [String: (pods: Int, mbps: Int)] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            let load = parts.count == 2 ? parts[1].split(separator: "@", maxSplits: 1) : []
            guard parts.count == 2, let pods = load.first.flatMap({ Int($0) }), pods >= 0 else {
                throw CommandFailure(message: "error: --attachments: \"\(item)\" is not NIC=PODS[@BANDWIDTH]")
            }
            var mbps = 0
            if load.count == 2 {
                guard let parsed = SelectionSupport.parseBandwidth(String(load[1])) else {
                    throw CommandFailure(message: "error: --attachments: \"\(load[1])\" is not a bandwidth")
                }
                mbps = parsed
            }
            result[String(parts[0])] = (pods, mbps)
        }
        return result
    }
}
