import Foundation

/// Runs a CNI binary as a runtime (Multus) would, for the kernel end-to-end tests.
public enum CNIRun {
    /// Whether this machine can run them: root, iproute2, iputils-ping and Debian's reference plugins.
    public static var available: Bool {
        TestNamespace.canCreate && FileManager.default.isExecutableFile(atPath: "/usr/lib/cni/macvlan")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/ping")
    }

    /// Runs `executable` inside network namespace `namespace` (a host of the test) with the CNI `environment` and
    /// `config` on stdin; returns (exit code, stdout without surrounding whitespace). Stderr is dropped: a CNI
    /// binary's answer is its stdout.
    public static func run(in namespace: String, executable: String, environment: [String: String],
                           config: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace, executable]
        process.environment = environment
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        input.fileHandleForWriting.write(Data(config.utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
