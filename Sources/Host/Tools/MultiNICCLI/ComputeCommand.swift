import ArgumentParser
import Foundation
import MultiNICCore
import MultiNICManifests

/// Output formats of `compute`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case yaml, json, table
}

/// `multinicctl compute -f network.yaml --hosts hosts.yaml [--previous cidr.yaml] [-o json|yaml|table]`.
struct ComputeCommand: OutputProducing {
    static let configuration = CommandConfiguration(
        commandName: "compute",
        abstract: "Compute a network's CIDR (and IPPools) from HostInterfaces, as the controller would.",
        discussion: """
            Hosts are processed in file order. With --previous, existing interface and host indices are kept; a
            host missing from the hosts file is treated as a deleted node and loses its blocks, while a host listed
            with an empty interface list keeps them (its node still exists).
            """)

    @OptionGroup var input: NetworkFileOptions

    @Option(help: "HostInterface resources: multi-document YAML or a JSON list.")
    var hosts: String

    @Option(help: "The CIDR computed before, to keep its indices.")
    var previous: String?


    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: yaml, json or table.")
    var format: OutputFormat = .yaml

    @Flag(name: .customLong("with-ippools"), help: "Also print the IPPool resources.")
    var withIPPools = false

    func execute() -> CommandOutput {
        CommandOutput.capturing { output in
            let network = try input.load(into: &output)
            let hostList = try ManifestLoader.resources(HostInterface.self, in: ManifestLoader.load(path: hosts))
            var previousSpec: CIDRSpec?
            if let previous {
                let cidrs = try ManifestLoader.resources(CIDR.self, in: ManifestLoader.load(path: previous))
                guard let match = cidrs.first(where: { $0.name == network.name }) ?? (cidrs.count == 1 ? cidrs.first : nil)
                else { throw ManifestError.missing(file: previous, kind: "CIDR \(network.name)") }
                previousSpec = match.spec
            }
            let (spec, notes) = try CIDRPlan.compute(network: network, hosts: hostList, previous: previousSpec)
            for note in notes { output.note("note: \(note)") }
            let cidr = CIDR(metadata: ObjectMeta(name: network.name), spec: spec)
            let pools = withIPPools ? IPPoolDerivation.pools(for: spec) : []
            output.stdout = try render(cidr, pools: pools, hostOrder: hostList.map(\.hostSpec.hostName))
        }
    }

    private func render(_ cidr: CIDR, pools: [IPPool], hostOrder: [String]) throws -> String {
        switch format {
        case .yaml:
            return ManifestWriter.yamlDocuments(try [ManifestWriter.yaml(cidr)] + pools.map(ManifestWriter.yaml))
        case .json:
            if pools.isEmpty { return try ManifestWriter.json(cidr) }
            return try ManifestWriter.json(JSONValue.list([JSONValue.reencode(cidr)] + pools.map(JSONValue.reencode)))
        case .table:
            return CIDRTable.render(cidr.spec, hostOrder: hostOrder)
                + (pools.isEmpty ? "" : "\n" + CIDRTable.renderPools(pools))
        }
    }
}

