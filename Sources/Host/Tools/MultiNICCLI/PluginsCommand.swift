import ArgumentParser
import Foundation
import MultiNICConformance
import MultiNICCore
import MultiNICPluginHost

/// `--plugins-dir`, shared by the commands that load plugins.
struct PluginOptions: ParsableArguments {
    @Option(help: "Directory of plugin libraries (default: plugins.d next to the executable, then /opt/multinic/plugins.d; env MULTINIC_PLUGINS_DIR).")
    var pluginsDir: String?

    /// Loads the plugins; load errors are returned for the caller to print.
    func load() throws -> (registry: PluginRegistry, errors: [PluginHostError]) {
        try PluginRegistry.load(directory: pluginsDir)
    }
}

/// `multinicctl plugins list` and `multinicctl plugins verify`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "Inspect the backend and policy plugins.", subcommands: [List.self, Verify.self])

    struct Verify: OutputProducing {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check one plugin library against what MultiNIC needs from it; exit 1 when a check fails.",
            discussion: "Native attach is exercised in two scratch network namespaces (as root; TEST-NET-1 addresses, no traffic).")

        @Argument(help: "The plugin library (lib….so).") var library: String
        @Flag(help: "Skip the checks that need scratch network namespaces.") var noNamespaces = false

        func execute() -> CommandOutput {
            var output = CommandOutput()
            let checks = PluginConformance.verify(path: library, scratchNamespaces: !noNamespaces && getuid() == 0)
            output.stdout = checks.map(\.description).joined(separator: "\n") + "\n"
            let failed = checks.filter { $0.outcome == .failed }.count
            let skipped = checks.filter { $0.outcome == .skipped }.count
            output.note("\(checks.count) checks: \(failed) failed, \(skipped) skipped")
            if failed > 0 { output.exitCode = 1 }
            return output
        }
    }

    struct List: OutputProducing {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "Load every plugin and print kind, names, version and file; report bad files.")

        @OptionGroup var plugins: PluginOptions

        func execute() -> CommandOutput {
            var output = CommandOutput()
            let clock = ContinuousClock()
            let start = clock.now
            let loaded: (registry: PluginRegistry, errors: [PluginHostError])
            do {
                loaded = try plugins.load()
            } catch {
                output.note("error: \(error)")
                output.exitCode = 1
                return output
            }
            let elapsed = clock.now - start
            var rows = [["KIND", "NAME", "VERSION", "PATH"]]
            for plugin in loaded.registry.plugins {
                rows.append([plugin.kind.rawValue, plugin.names.joined(separator: ","), plugin.version, plugin.path])
            }
            output.stdout = CIDRTable.alignColumns(rows).joined(separator: "\n") + "\n"
            let milliseconds = Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
            output.note("\(loaded.registry.plugins.count) plugin(s) loaded in \(String(format: "%.1f", milliseconds)) ms")
            for error in loaded.errors { output.note("error: \(error)") }
            if !loaded.errors.isEmpty { output.exitCode = 1 }
            return output
        }
    }
}
