import Foundation

/// Runs a program to completion with stdout and stderr captured together.
public enum CapturedRun {
    /// ``run(_:_:)`` on a Dispatch thread, so that a long child does not hold a Swift-concurrency thread (the
    /// suites run in parallel on 2 cores).
    public static func runDetached(_ executable: URL, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(executable, arguments) })
            }
        }
    }

    /// (exit status, stdout + stderr).
    public static func run(_ executable: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
