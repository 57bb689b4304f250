import Foundation
import MultiNICCore
import MultiNICPluginHost

/// The repository root, found from this file's location.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// The plugin libraries `swift build` put next to the test binary.
public enum BuiltPlugins {
    /// The build directory holding `libmultinic-*.so`.
    public static func buildDirectory() throws -> URL {
        try product("libmultinic-policy-none.so").deletingLastPathComponent()
    }

    /// An executable built next to the test binary (multi-nicd, multinicctl, test helpers).
    public static func executable(_ name: String) throws -> URL {
        try product(name)
    }

    /// A build product in the test binary's directory or one of its parents.
    static func product(_ name: String) throws -> URL {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw PluginTestFailure("\(name) not found next to \(CommandLine.arguments[0]); run `swift build --build-tests` first")
    }

    /// Paths of the built libraries whose file names start with `prefix`.
    public static func libraries(prefix: String) throws -> [URL] {
        let directory = try buildDirectory()
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".so") }.sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// Runs `body` with a fresh plugins directory holding copies of `files` (name in the directory → source), as
    /// .ci/build-plugins lays out plugins.d; the directory is removed afterwards.
    public static func withDirectory<T>(_ files: [(name: String, source: URL)], _ body: (String) throws -> T) throws -> T {
        let directory = try makeDirectory(files)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    /// A fresh plugins directory with copies of `files` (the host loads regular files only, never symlinks); the caller
    /// removes it.
    public static func makeDirectory(_ files: [(name: String, source: URL)]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-plugins-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            try FileManager.default.copyItem(atPath: file.source.path, toPath: directory + "/" + file.name)
        }
        return directory
    }

    /// Every backend and policy library of this repository: (file name, path).
    public static func repositoryPlugins() throws -> [(name: String, source: URL)] {
        try (libraries(prefix: "libmultinic-backend-") + libraries(prefix: "libmultinic-policy-"))
            .map { ($0.lastPathComponent, $0) }
    }

    /// The registry of every backend and policy of this repository, loaded from a temporary plugins.d.
    public static func registry() throws -> PluginRegistry {
        try withDirectory(repositoryPlugins()) { directory in
            let (registry, errors) = PluginRegistry.load(directory: directory)
            guard errors.isEmpty else { throw PluginTestFailure("load errors: \(errors)") }
            return registry
        }
    }
}

/// A test precondition that did not hold, with what to do about it.
public struct PluginTestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
