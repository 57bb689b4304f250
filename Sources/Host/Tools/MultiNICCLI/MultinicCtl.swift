import ArgumentParser
import Foundation

/// What a command produced: text for stdout and stderr and the exit code. Commands build the whole output
/// before anything is written, so an error never leaves half a document on stdout.
public struct CommandOutput: Sendable, Equatable {
    public var stdout = ""
    public var stderr = ""
    public var exitCode: Int32 = 0

    public init(stdout: String = "", stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }

    /// Adds a line to stderr.
    mutating func note(_ line: String) { stderr += line + "\n" }

    /// Runs `body`; any error ends up on stderr with exit code 1, and stdout is then left empty.
    static func capturing(_ body: (inout CommandOutput) throws -> Void) -> CommandOutput {
        var output = CommandOutput()
        do {
            try body(&output)
        } catch let error as CommandFailure {
            output.note(error.message)
            output.exitCode = 1
        } catch {
            output.note("error: \(error)")
            output.exitCode = 1
        }
        if output.exitCode != 0 { output.stdout = "" }
        return output
    }

    /// Writes the output to the process's streams.
    func emit() {
        if !stdout.isEmpty { FileHandle.standardOutput.write(Data(stdout.utf8)) }
        if !stderr.isEmpty { FileHandle.standardError.write(Data(stderr.utf8)) }
    }
}

/// A subcommand whose work is a pure function to a ``CommandOutput``.
protocol OutputProducing: ParsableCommand {
    func execute() -> CommandOutput
}

extension OutputProducing {
    public func run() throws {
        let output = execute()
        output.emit()
        if output.exitCode != 0 { throw ExitCode(output.exitCode) }
    }
}

/// `multinicctl`: the MultiNIC command-line tool.
public struct MultinicCtl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "multinicctl",
        abstract: "Validate MultiNIC networks, compute their CIDRs, render their resources, dry-run attach policies, run a lab.",
        subcommands: [ValidateCommand.self, ComputeCommand.self, RenderCommand.self, SelectCommand.self,
                      PluginsCommand.self, LabCommand.self, ConcheckCommand.self, ConcheckProbeCommand.self,
                      StatusCommand.self, TakeoverCommand.self])

    public init() {}

    /// Parses `arguments` and runs the subcommand, capturing its output (for tests and embedding).
    public static func invoke(_ arguments: [String]) -> CommandOutput {
        do {
            let command = try parseAsRoot(arguments)
            guard let producing = command as? any OutputProducing else {
                return CommandOutput(stdout: helpMessage() + "\n")
            }
            return producing.execute()
        } catch {
            let code = exitCode(for: error).rawValue
            let message = fullMessage(for: error)
            return code == 0 ? CommandOutput(stdout: message + "\n")
                : CommandOutput(stderr: message + "\n", exitCode: code)
        }
    }
}
