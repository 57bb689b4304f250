import Foundation
import MultiNICCLI
import MultiNICManifests
import MultiNICTakeover
import MultiNICTestSupport
import Testing

/// `multinicctl takeover plan` on the original's objects: what MultiNIC will own, and every conflict kind as a line a
/// human can act on. Unlike other commands, the plan is printed also when it exits 1 (that is when it matters most).
@Suite struct TakeoverPlanTests {
    static func plan(_ fixture: String, _ extra: [String] = []) throws -> (rendered: String, exitCode: Int32, stdout: String) {
        _ = FileManager.default.changeCurrentDirectoryPath(repositoryRoot.path)
        let arguments = ["takeover", "plan", "--from-file", "Tests/Fixtures/Takeover/\(fixture).yaml"] + extra
        let output = MultinicCtl.invoke(arguments)
        let rendered = "$ multinicctl \(arguments.joined(separator: " "))\n# exit \(output.exitCode)\n# stdout\n\(output.stdout)"
            + "# stderr\n\(output.stderr)"
        return (rendered, output.exitCode, output.stdout)
    }

    static func golden(_ name: String, _ rendered: String) throws -> String {
        let url = repositoryRoot.appendingPathComponent("Tests/MultiNICCLITests/Golden/\(name).txt")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try rendered.write(to: url, atomically: true, encoding: .utf8) }
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test func aCleanClusterIsAdoptedAsItIs() throws {
        let (rendered, exitCode, stdout) = try Self.plan("cluster")
        #expect(rendered == (try Self.golden("takeover-plan", rendered)))
        #expect(exitCode == 0)
        // The CIDR's indices and every live address appear as they are.
        for text in ["192.168.0.64/26", "192.168.0.65 default/trainer-1", "192.168.64.2 team-a/web-0", "NADs to rewrite: default, team-a",
                     "route table multinic-ipvlanl3 adopted with rule from 192.168.0.0/16", "conflicts: none"] {
            #expect(stdout.contains(text), "\(text)")
        }
    }

    @Test func everyConflictKindIsReportedAndTheBlockingOnesFailThePlan() throws {
        // MultiNIC to be installed where the original's daemon runs: daemonset-clash.
        let (rendered, exitCode, stdout) = try Self.plan("conflicts", ["--namespace", "openshift-operators"])
        #expect(rendered == (try Self.golden("takeover-plan-conflicts", rendered)))
        #expect(exitCode == 1)
        for kind in TakeoverConflict.Kind.allCases {
            #expect(stdout.contains(" \(kind.rawValue): "), "\(kind.rawValue) is reported")
        }
        for blocking in ["allocation-outside-pool", "duplicate-address", "host-without-hostinterface", "pool-without-cidr",
                         "pool-without-network", "invalid-network", "block-would-move", "olm-managed", "daemonset-clash"] {
            #expect(stdout.contains("BLOCKING \(blocking): "), "\(blocking) blocks")
        }
    }

    @Test func aNetworkIsAdoptableOnlyWithoutBlockingConflicts() throws {
        let documents = try ManifestLoader.load(path: repositoryRoot.appendingPathComponent("Tests/Fixtures/Takeover/conflicts.yaml").path)
        let cluster = try LegacyCluster(objects: documents.map(\.json))
        let plan = TakeoverPlanner.plan(cluster)
        #expect(plan.networks.map(\.name) == ["macvlan-l2", "multinic-ipvlanl3", "too-many-bits"])
        #expect(plan.networks.allSatisfy { !$0.adoptable })
        // A repeated allocation is adopted once; an address outside its pool is not adopted at all.
        let pool = try #require(plan.networks[1].pools.first { $0.name == "multinic-ipvlanl3-192.168.0.0-26" })
        #expect(pool.allocations.map(\.address) == ["192.168.0.1", "192.168.0.2", "192.168.0.9"])
    }
}
