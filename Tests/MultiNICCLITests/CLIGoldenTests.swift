import Foundation
import MultiNICCLI
import MultiNICTestSupport
import Testing

/// Compares a command's output with `Golden/<name>.txt`; `UPDATE_GOLDEN=1 swift test` rewrites the files.
func expectGolden(_ name: String, _ arguments: [String], exitCode: Int32, sourceLocation: SourceLocation = #_sourceLocation) throws {
    _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
    let output = MultinicCtl.invoke(arguments)
    let rendered = "$ multinicctl \(arguments.joined(separator: " "))\n# exit \(output.exitCode)\n# stdout\n\(output.stdout)"
        + "# stderr\n\(output.stderr)"
    let url = repositoryRoot.appendingPathComponent("Tests/MultiNICCLITests/Golden/\(name).txt")
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try rendered.write(to: url, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(rendered == expected, sourceLocation: sourceLocation)
    #expect(output.exitCode == exitCode, sourceLocation: sourceLocation)
    if exitCode != 0 { #expect(output.stdout.isEmpty, "nothing is half-printed to stdout", sourceLocation: sourceLocation) }
}

@Suite(.ownThread, .serialized) struct CLIGoldenTests {
    @Test func validateTheSeedExample() throws {
        try expectGolden("validate-seed", ["validate", "-f", "examples/network.yaml"], exitCode: 0)
    }

    @Test func validateReportsEveryErrorWithItsPath() throws {
        try expectGolden("validate-invalid", ["validate", "-f", "Tests/MultiNICCLITests/Fixtures/invalid-network.yaml"],
                         exitCode: 1)
    }

    @Test func computeYAML() throws {
        try expectGolden("compute-yaml", ["compute", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml"],
                         exitCode: 0)
    }

    @Test func computeJSONWithIPPools() throws {
        try expectGolden("compute-json-ippools", ["compute", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml",
                                                  "-o", "json", "--with-ippools"], exitCode: 0)
    }

    @Test func computeTableIPv6() throws {
        try expectGolden("compute-table-ipv6", ["compute", "-f", "examples/network-ipv6.yaml", "--hosts",
                                                "examples/hosts-ipv6.yaml", "-o", "table", "--with-ippools"], exitCode: 0)
    }

    @Test func computeIncrementallyFromThePreviousCIDR() throws {
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
        let first = MultinicCtl.invoke(["compute", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml"])
        try first.stdout.write(to: repositoryRoot.appendingPathComponent(".build/golden-previous-cidr.yaml"),
                               atomically: true, encoding: .utf8)
        // worker-2's node is gone, worker-3's discovery came back empty, worker-5 is new.
        try expectGolden("compute-previous", ["compute", "-f", "examples/network.yaml", "--hosts",
                                              "Tests/MultiNICCLITests/Fixtures/hosts-changed.yaml", "--previous",
                                              ".build/golden-previous-cidr.yaml", "-o", "table"], exitCode: 0)
    }

    @Test func computeRefusesAnInvalidNetwork() throws {
        try expectGolden("compute-invalid", ["compute", "-f", "Tests/MultiNICCLITests/Fixtures/invalid-network.yaml",
                                             "--hosts", "examples/hosts.yaml"], exitCode: 1)
    }

    @Test func computeRefusesAFrozenFieldChange() throws {
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
        let first = MultinicCtl.invoke(["compute", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml"])
        let previous = repositoryRoot.appendingPathComponent(".build/golden-frozen-cidr.yaml")
        try first.stdout.replacingOccurrences(of: "hostBlock: 6", with: "hostBlock: 8")
            .write(to: previous, atomically: true, encoding: .utf8)
        try expectGolden("compute-frozen", ["compute", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml",
                                            "--previous", ".build/golden-frozen-cidr.yaml"], exitCode: 1)
    }

    @Test func usageErrorsExitNonZero() {
        let output = MultinicCtl.invoke(["compute", "-f", "examples/network.yaml"])
        #expect(output.exitCode == 64)
        #expect(output.stderr.contains("--hosts"))
        #expect(output.stdout.isEmpty)
    }
}

/// The real executable: streams and exit codes as a shell sees them.
@Suite(.ownThread) struct CLIProcessTests {
    func run(_ arguments: [String]) throws -> (stdout: String, stderr: String, status: Int32) {
        let binary = try BuiltPlugins.executable("multinicctl")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self), process.terminationStatus)
    }

    @Test func validateExitsZeroWithOneLine() throws {
        let result = try run(["validate", "-f", "examples/network.yaml"])
        #expect(result.status == 0)
        #expect(result.stdout == "OK: examples/network.yaml: MultiNicNetwork multi-nic-sample valid\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func errorsGoToStderrWithExitOne() throws {
        let result = try run(["validate", "-f", "Tests/MultiNICCLITests/Fixtures/invalid-network.yaml"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("spec.ipam.vlanMode: \"l4\" is not one of l2, l3, l3s"))
    }
}
