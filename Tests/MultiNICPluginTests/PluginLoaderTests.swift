import Foundation
import MultiNICCore
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

@Suite struct PluginLoaderTests {
    @Test func everyBackendAndPolicyOfTheRepositoryLoads() throws {
        let registry = try BuiltPlugins.registry()
        #expect(registry.backendNames == ["aws-ipvlan", "host-device", "ipvlan", "macvlan", "sriov"])
        #expect(registry.policyNames == ["costOpt", "devClass", "none", "perfOpt", "topology"])
        // Each reports its own version (topology 0.2.0 ranks by the PCIe tree; the others are 0.1.0).
        #expect(Dictionary(uniqueKeysWithValues: registry.plugins.flatMap { plugin in plugin.names.map { ($0, plugin.version) } })
            == ["aws-ipvlan": "0.1.0", "host-device": "0.1.0", "ipvlan": "0.1.0", "macvlan": "0.1.0", "sriov": "0.1.0", "costOpt": "0.1.0", "devClass": "0.1.0", "none": "0.1.0",
                "perfOpt": "0.1.0", "topology": "0.2.0"])
        // The types crossed the boundary intact: a cast-dependent call works.
        let rendering = try registry.backend("macvlan").render(NetworkRenderInput(
            network: MultiNicNetwork(metadata: ObjectMeta(name: "n"), spec: MultiNicNetworkSpec(
                subnet: "", ipam: #"{"type":"host-local"}"#, plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan"))),
            hosts: []))
        #expect(rendering.plugin["type"] == .string("macvlan"))
    }

    @Test func aLibraryWithoutTheEntrySymbolIsNotAPlugin() throws {
        let fixture = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-fixture-notaplugin").first)
        let none = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-policy-none").first)
        try BuiltPlugins.withDirectory([("a.so", fixture), ("none.so", none)]) { directory in
            let (registry, errors) = PluginRegistry.load(directory: directory)
            #expect(errors == [.notAPlugin(path: directory + "/a.so")])
            #expect(errors.first?.description.contains("no multinic_plugin_entry symbol") == true)
            #expect(registry.policyNames == ["none"], "the good plugin still loads")
        }
    }

    @Test func anABIMismatchShowsBothVersions() throws {
        let fixture = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-fixture-otherabi").first)
        try BuiltPlugins.withDirectory([("old.so", fixture)]) { directory in
            let (_, errors) = PluginRegistry.load(directory: directory)
            #expect(errors == [.abiMismatch(path: directory + "/old.so", plugin: 3 << 24 | 0x00c0ffee, host: PluginABI.stamp)])
            #expect(errors.first?.description == "\(directory)/old.so: built for plugin ABI 3, this host speaks ABI"
                + " \(PluginABI.version); rebuild the plugin against this SDK")
        }
    }

    /// A plugin of the same ABI version built before a boundary type changed (a field added to a spec) reports
    /// another layout stamp: refused by name, where loading it would read the host's values at wrong offsets.
    @Test func aPluginBuiltAgainstAnotherLayoutIsRefused() {
        #expect(PluginABI.version(of: PluginABI.stamp) == PluginABI.version)
        let stale = PluginABI.stamp ^ 0x0000_0101
        let error = PluginHostError.abiMismatch(path: "/p/stale.so", plugin: stale, host: PluginABI.stamp)
        #expect(error.description.hasPrefix("/p/stale.so: built against another MultiNIC core (ABI \(PluginABI.version), layout stamp"))
        // The stamp is computed as each side was compiled: a registration is handed over only on an exact match.
        let registration = PluginRegistration(policy: NoPolicy(), names: ["x"], version: "1")
        var reported: UInt32 = 0
        #expect(PluginABI.export(registration, hostABI: stale, pluginABI: &reported) == nil)
        #expect(reported == PluginABI.stamp)
        let handed = PluginABI.export(registration, hostABI: PluginABI.stamp, pluginABI: &reported)
        #expect(handed != nil)
        if let handed { Unmanaged<AnyObject>.fromOpaque(handed).release() }
    }

    struct NoPolicy: AttachPolicy {
        func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError) -> Selection {
            Selection()
        }
    }

    @Test func aDuplicateNameNamesBothFiles() throws {
        let macvlan = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-backend-macvlan").first)
        try BuiltPlugins.withDirectory([("a-macvlan.so", macvlan), ("b-macvlan.so", macvlan)]) { directory in
            let (registry, errors) = PluginRegistry.load(directory: directory)
            #expect(errors == [.duplicateName(kind: .backend, name: "macvlan", first: directory + "/a-macvlan.so",
                                              second: directory + "/b-macvlan.so")])
            #expect(registry.plugins.map(\.path) == [directory + "/a-macvlan.so"])
        }
    }

    @Test func aFileThatIsNotALibraryCannotBeLoaded() throws {
        let text = FileManager.default.temporaryDirectory.appendingPathComponent("not-elf-\(UUID()).txt")
        try "hello".write(to: text, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: text) }
        try BuiltPlugins.withDirectory([("broken.so", text)]) { directory in
            let (_, errors) = PluginRegistry.load(directory: directory)
            guard case .openFailed(let path, let reason)? = errors.first else {
                Issue.record("expected openFailed, got \(errors)")
                return
            }
            #expect(path == directory + "/broken.so")
            #expect(!reason.isEmpty)
        }
    }

    @Test func unknownNamesListWhatIsAvailable() throws {
        let registry = try BuiltPlugins.registry()
        #expect(throws: PluginHostError.unknownBackend("bridge", available: ["aws-ipvlan", "host-device", "ipvlan", "macvlan", "sriov"])) {
            try registry.backend("bridge")
        }
        #expect(throws: PluginHostError.unknownPolicy("fastest",
                                                      available: ["costOpt", "devClass", "none", "perfOpt", "topology"])) {
            try registry.policy("fastest")
        }
    }

    @Test func aMissingDirectoryListsWhatWasTried() {
        #expect(throws: PluginHostError.noDirectory(tried: ["/nonexistent/a", "/nonexistent/b"])) {
            try PluginLoader.firstExistingDirectory(["/nonexistent/a", "/nonexistent/b"])
        }
    }
}

/// Only files an administrator put in the plugins directory are opened: a library's constructors run at `dlopen`,
/// before any ABI check.
@Suite struct PluginTrustTests {
    @Test func aSymlinkAGroupWritableFileAndAnOpenDirectoryAreRefused() throws {
        let plugin = try #require(BuiltPlugins.repositoryPlugins().first { $0.name.contains("policy-none") })
        try BuiltPlugins.withDirectory([]) { directory in
            try FileManager.default.createSymbolicLink(atPath: directory + "/linked.so", withDestinationPath: plugin.source.path)
            try FileManager.default.copyItem(atPath: plugin.source.path, toPath: directory + "/writable.so")
            try FileManager.default.setAttributes([.posixPermissions: 0o666], ofItemAtPath: directory + "/writable.so")
            let (registry, errors) = PluginRegistry.load(directory: directory)
            #expect(registry.plugins.isEmpty, "\(registry.plugins)")
            let reasons = errors.map(\.description)
            #expect(reasons.contains { $0.contains("linked.so") && $0.contains("symbolic link") }, "\(reasons)")
            #expect(reasons.contains { $0.contains("writable.so") && $0.contains("writable by group or others") }, "\(reasons)")
        }
        try BuiltPlugins.withDirectory([plugin]) { directory in
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory)
            let (registry, errors) = PluginRegistry.load(directory: directory)
            #expect(registry.plugins.isEmpty && errors.first?.description.contains("its directory is writable") == true, "\(errors)")
        }
    }
}
