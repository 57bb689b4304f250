import ArgumentParser
import MultiNICCore
import MultiNICManifests

/// `multinicctl validate -f network.yaml`: checks every document; exit 0 with one OK line, or exit 1 with
/// every error and the field it concerns.
struct ValidateCommand: OutputProducing {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check MultiNIC resources and report every problem with its field path.")

    @Option(name: [.short, .customLong("file")], help: "A YAML or JSON file of resources (- for stdin); repeatable.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file with -f") }
    }

    func execute() -> CommandOutput {
        var output = CommandOutput()
        var checked: [String] = []
        var errorCount = 0
        for file in files {
            let documents: [ManifestDocument]
            do {
                documents = try ManifestLoader.load(path: file)
            } catch {
                output.note("error: \(error)")
                errorCount += 1
                continue
            }
            if documents.isEmpty {
                output.note("error: \(file): no documents")
                errorCount += 1
            }
            for document in documents {
                let report = document.validate()
                for warning in report.warnings { output.note("warning: \(document.ref): \(warning)") }
                for error in report.errors { output.note("error: \(document.ref): \(error)") }
                errorCount += report.errors.count
                if report.isValid {
                    checked.append([document.ref.kind, document.ref.name].compactMap { $0 }.joined(separator: " "))
                }
            }
        }
        if errorCount > 0 {
            output.note("\(errorCount) error(s)")
            output.exitCode = 1
        } else {
            output.stdout = "OK: \(files.joined(separator: ", ")): \(checked.joined(separator: ", ")) valid\n"
        }
        return output
    }
}
