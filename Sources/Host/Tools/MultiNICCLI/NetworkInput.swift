import ArgumentParser
import MultiNICCore
import MultiNICManifests

/// An error whose message is already formatted for the user.
struct CommandFailure: Error {
    let message: String
}

/// `-f FILE [--network NAME]`: the MultiNicNetwork a command works on.
struct NetworkFileOptions: ParsableArguments {
    @Option(name: [.short, .customLong("file")], help: "The file with the MultiNicNetwork.")
    var file: String

    @Option(help: "Which MultiNicNetwork, when the file has several.")
    var network: String?

    /// The validated network (see ``NetworkInput/load(file:name:into:)``).
    func load(into output: inout CommandOutput) throws -> MultiNicNetwork {
        try NetworkInput.load(file: file, name: network, into: &output)
    }
}

/// Reading the MultiNicNetwork a command works on.
enum NetworkInput {
    /// The network of `file` (the one named `name` when the file has several), validated: warnings go to the
    /// output's stderr, errors end the command.
    static func load(file: String, name: String?, into output: inout CommandOutput) throws -> MultiNicNetwork {
        let documents = try ManifestLoader.load(path: file).filter { $0.kind == MultiNicNetworkSpec.kind }
        let candidates = name.map { wanted in documents.filter { $0.ref.name == wanted } } ?? documents
        guard let document = candidates.first else {
            throw ManifestError.missing(file: file, kind: name.map { "MultiNicNetwork \($0)" } ?? "MultiNicNetwork")
        }
        if candidates.count > 1 {
            let names = candidates.compactMap(\.ref.name).joined(separator: ", ")
            throw CommandFailure(message: "error: \(file) has several networks (\(names)); pick one with --network")
        }
        let network = try document.decode(MultiNicNetwork.self)
        let report = document.validate()
        for warning in report.warnings { output.note("warning: \(document.ref): \(warning)") }
        guard report.isValid else {
            throw CommandFailure(message: report.errors.map { "error: \(document.ref): \($0)" }.joined(separator: "\n"))
        }
        return network
    }

    /// One HostInterface from `file:NAME` (or the only one of `file`).
    static func host(_ reference: String) throws -> HostInterface {
        let parts = reference.split(separator: ":", maxSplits: 1).map(String.init)
        let hosts = try ManifestLoader.resources(HostInterface.self, in: ManifestLoader.load(path: parts[0]))
        if parts.count == 2 {
            guard let host = hosts.first(where: { $0.name == parts[1] || $0.spec.hostName == parts[1] }) else {
                throw CommandFailure(message: "error: \(parts[0]) has no HostInterface \(parts[1]) (has: "
                    + hosts.map(\.name).joined(separator: ", ") + ")")
            }
            return host
        }
        guard hosts.count == 1, let only = hosts.first else {
            throw CommandFailure(message: "error: \(parts[0]) has \(hosts.count) hosts; name one as \(parts[0]):NAME")
        }
        return only
    }
}
