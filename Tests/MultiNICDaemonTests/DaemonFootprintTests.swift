import Foundation
import MultiNICTestSupport
import Testing

/// What multi-nicd loads when it starts: no Foundation proper, no FoundationInternationalization and no ICU (7.7 MiB
/// resident together). The daemon's code uses FoundationEssentials only; YAML, which needs Foundation, comes through the
/// YAML bridge that is loaded only when a YAML kubeconfig is read.
@Suite struct DaemonFootprintTests {
    /// The libraries the dynamic loader maps for `executable` (its trace mode, set through env(1): resolves
    /// everything, runs nothing).
    static func loadedLibraries(_ executable: URL) throws -> [String] {
        let text = try DaemonProcessTests.run(["LD_TRACE_LOADED_OBJECTS=1", executable.path])
        return text.split(separator: "\n").compactMap { line in
            line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init)
        }
    }

    @Test func multiNicdStartsWithoutFoundationProper() throws {
        let libraries = try Self.loadedLibraries(try BuiltPlugins.executable("multi-nicd"))
        #expect(libraries.contains("libFoundationEssentials.so"), "the loader's trace was read: \(libraries)")
        #expect(libraries.contains("libMultiNICCore.so"))
        for unwanted in ["libFoundation.so", "libFoundationInternationalization.so", "lib_FoundationICU.so", "libFoundationXML.so"] {
            #expect(!libraries.contains(unwanted), "multi-nicd loads \(unwanted) at start")
        }
        #expect(!libraries.contains { $0.hasPrefix("libcurl") }, "libcurl is opened on first use only")
    }
}
