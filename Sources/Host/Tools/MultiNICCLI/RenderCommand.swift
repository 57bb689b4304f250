import ArgumentParser
import MultiNICCore
import MultiNICManifests
import MultiNICPluginHost
import MultiNICRender

/// `multinicctl render -f network.yaml --hosts hosts.yaml`: everything the operator writes for a network.
struct RenderCommand: OutputProducing {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the NetworkAttachmentDefinitions, dependent resources, CIDR and IPPools of a network.",
        discussion: "The YAML output can be piped to `kubectl apply -f -`.")

    @OptionGroup var input: NetworkFileOptions

    @Option(help: "HostInterface resources: multi-document YAML or a JSON list.")
    var hosts: String


    @Option(help: "Namespaces that get a NAD when the network lists none (comma-separated).")
    var namespaces = "default"

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: yaml or json.")
    var format: OutputFormat = .yaml

    @OptionGroup var plugins: PluginOptions

    func execute() -> CommandOutput {
        CommandOutput.capturing { output in
            let network = try input.load(into: &output)
            let hostList = try ManifestLoader.resources(HostInterface.self, in: ManifestLoader.load(path: hosts))
            let loaded = try plugins.load()
            for error in loaded.errors { output.note("warning: \(error)") }
            let rendered = try NetworkRenderer(registry: loaded.registry).render(
                network, hosts: hostList, clusterNamespaces: namespaces.split(separator: ",").map(String.init))
            for warning in rendered.warnings { output.note("warning: \(warning)") }
            switch format {
            case .json:
                var objects = try rendered.attachments.map(JSONValue.reencode) + rendered.dependents.map(\.object)
                if let cidr = rendered.cidr { objects.append(try JSONValue.reencode(cidr)) }
                objects += try rendered.ippools.map(JSONValue.reencode)
                output.stdout = try ManifestWriter.json(JSONValue.list(objects))
            case .yaml, .table:
                var documents = try rendered.attachments.map(ManifestWriter.yaml)
                documents += try rendered.dependents.map { try ManifestWriter.yaml($0.object) }
                if let cidr = rendered.cidr { documents.append(try ManifestWriter.yaml(cidr)) }
                documents += try rendered.ippools.map(ManifestWriter.yaml)
                output.stdout = ManifestWriter.yamlDocuments(documents)
            }
        }
    }
}

extension JSONValue {
    /// A Kubernetes `v1 List` of objects.
    static func list(_ items: [JSONValue]) -> JSONValue {
        .object(["apiVersion": .string("v1"), "kind": .string("List"), "items": .array(items)])
    }
}
