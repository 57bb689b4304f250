import ArgumentParser
import Foundation
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

/// `multinicctl plugins list`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "Inspect the backend and policy plugins.", subcommands: [List.self])

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
