import Foundation
import MultiNICCLI
import MultiNICTestSupport
import Testing

/// `render`, `select` and `plugins list` with the repository's plugins in `.build/golden-plugins.d`.
@Suite(.serialized) struct CLIPluginCommandTests {
    static let pluginsDir = ".build/golden-plugins.d"

    /// (Re)creates the plugins directory at a stable path so golden files can name it.
    static func preparePlugins() throws {
        let directory = repositoryRoot.appendingPathComponent(pluginsDir)
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, source) in try BuiltPlugins.repositoryPlugins() {
            try FileManager.default.copyItem(at: source, to: directory.appendingPathComponent(name))
        }
    }

    @Test func renderTheSeedNetwork() throws {
        try Self.preparePlugins()
        try expectGolden("render-seed", ["render", "-f", "examples/network.yaml", "--hosts", "examples/hosts.yaml",
                                         "--plugins-dir", Self.pluginsDir], exitCode: 0)
    }

    /// aws-ipvlan's NAD and pools: each pool names the cloud and leaves out AWS's reserved addresses.
    @Test func renderTheAWSNetwork() throws {
        try Self.preparePlugins()
        try expectGolden("render-aws-ipvlan", ["render", "-f", "examples/aws-ipvlan-network.yaml", "--hosts", "examples/hosts.yaml",
                                               "--plugins-dir", Self.pluginsDir], exitCode: 0)
    }

    @Test func renderRefusesAnUnknownBackend() throws {
        try Self.preparePlugins()
        let network = repositoryRoot.appendingPathComponent(".build/golden-bridge-network.yaml")
        try String(contentsOf: repositoryRoot.appendingPathComponent("examples/network.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "type: ipvlan", with: "type: bridge").write(to: network, atomically: true, encoding: .utf8)
        try expectGolden("render-unknown-backend", ["render", "-f", ".build/golden-bridge-network.yaml", "--hosts",
                                                    "examples/hosts.yaml", "--plugins-dir", Self.pluginsDir], exitCode: 1)
    }

    @Test func selectByDeviceClass() throws {
        try Self.preparePlugins()
        try expectGolden("select-devclass", [
            "select", "-f", "Tests/MultiNICCLITests/Fixtures/policy-networks.yaml", "--network", "by-class",
            "--host", "Tests/MultiNICCLITests/Fixtures/gpu-host.yaml:gpu-1", "--pod-args", #"{"nics":2,"class":"highspeed"}"#,
            "--device-classes", "Tests/MultiNICCLITests/Fixtures/device-classes.yaml", "--plugins-dir", Self.pluginsDir,
        ], exitCode: 0)
    }

    @Test func selectByCostWithLoad() throws {
        try Self.preparePlugins()
        try expectGolden("select-costopt", [
            "select", "-f", "Tests/MultiNICCLITests/Fixtures/policy-networks.yaml", "--network", "by-cost",
            "--host", "Tests/MultiNICCLITests/Fixtures/gpu-host.yaml:gpu-1", "--pod-args", #"{"target":"150Gbps"}"#,
            "--attachments", "ens1f0=3@60Gbps", "--plugins-dir", Self.pluginsDir,
        ], exitCode: 0)
    }

    @Test func selectByTopology() throws {
        try Self.preparePlugins()
        try expectGolden("select-topology", [
            "select", "-f", "Tests/MultiNICCLITests/Fixtures/policy-networks.yaml", "--network", "by-topology",
            "--host", "Tests/MultiNICCLITests/Fixtures/gpu-host.yaml:gpu-1", "--pod-args", #"{"nics":1}"#,
            "--gpus-per-numa", "0=2,1=6", "--plugins-dir", Self.pluginsDir,
        ], exitCode: 0)
    }

    /// GPUs by PCI address, located in a sysfs tree: each GPU takes its closest NIC in turn (switch, root, NUMA node).
    @Test func selectByTopologyWithGPUsOnThePCIeTree() throws {
        try Self.preparePlugins()
        try expectGolden("select-topology-gpus", [
            "select", "-f", "Tests/MultiNICCLITests/Fixtures/policy-networks.yaml", "--network", "by-topology",
            "--host", "Tests/MultiNICCLITests/Fixtures/gpu-host-pcie.yaml:gpu-2", "--pod-args", #"{"nics":2}"#,
            "--gpus", "0000:88:00.0,0000:3c:00.0", "--sysfs-root", "Tests/MultiNICCLITests/Fixtures/gpu-host-sysfs",
            "--plugins-dir", Self.pluginsDir,
        ], exitCode: 0)
        try expectGolden("select-topology-gpu-missing", [
            "select", "-f", "Tests/MultiNICCLITests/Fixtures/policy-networks.yaml", "--network", "by-topology",
            "--host", "Tests/MultiNICCLITests/Fixtures/gpu-host-pcie.yaml:gpu-2", "--gpus", "0000:99:00.0",
            "--sysfs-root", "Tests/MultiNICCLITests/Fixtures/gpu-host-sysfs", "--plugins-dir", Self.pluginsDir,
        ], exitCode: 1)
    }

    @Test func selectNamesAMissingHost() throws {
        try Self.preparePlugins()
        try expectGolden("select-missing-host", [
            "select", "-f", "examples/network.yaml", "--host", "examples/hosts.yaml:worker-9",
            "--plugins-dir", Self.pluginsDir,
        ], exitCode: 1)
    }

    @Test func pluginsListShowsEveryPlugin() throws {
        try Self.preparePlugins()
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
        let output = MultinicCtl.invoke(["plugins", "list", "--plugins-dir", Self.pluginsDir])
        #expect(output.exitCode == 0)
        let names = output.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
        #expect(names == ["aws-ipvlan", "host-device", "ipvlan", "macvlan", "sriov", "costOpt", "devClass", "none", "perfOpt", "topology"])
        #expect(output.stderr.hasPrefix("10 plugin(s) loaded in "))
    }

    @Test func pluginsListReportsBadFiles() throws {
        let directory = repositoryRoot.appendingPathComponent(".build/golden-bad-plugins.d")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let fixture = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-fixture-otherabi").first)
        try FileManager.default.copyItem(at: fixture, to: directory.appendingPathComponent("old.so"))
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
        let output = MultinicCtl.invoke(["plugins", "list", "--plugins-dir", ".build/golden-bad-plugins.d"])
        #expect(output.exitCode == 1)
        #expect(output.stderr.contains("error: .build/golden-bad-plugins.d/old.so: built for plugin ABI 3, this host speaks ABI 4"))
    }
}
