import Foundation
import MultiNICTestSupport
import Testing

/// The source layout shows the architecture: every host target lives in a group folder of `Sources/Host`, and
/// dependencies point one way only — Core ← Common ← Node, CNI, Cluster (never one another) ← Tools ← Executables.
@Suite struct LayoutTests {
    /// Rank of each group; Node, CNI and Cluster share a rank and may not depend on each other.
    static let ranks = ["Core": 0, "Common": 1, "Node": 2, "CNI": 2, "Cluster": 2, "Tools": 3, "Executables": 4]

    struct Target {
        var name: String
        var path: String
        var dependencies: [String]
    }

    /// The targets of Package.swift (name, path, by-name dependencies), read from its text.
    static func targets() throws -> [Target] {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        var targets: [Target] = []
        let starts = text.ranges(of: try Regex(#"\.(target|executableTarget|systemLibrary|testTarget)\("#))
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1].lowerBound : text.endIndex
            let block = String(text[start.lowerBound..<end])
            guard let name = block.firstMatch(of: /name: "([^"]+)"/)?.1,
                  let path = block.firstMatch(of: /path: "([^"]+)"/)?.1 else { continue }
            var dependencies: [String] = []
            // Everything up to `path:`, conditional parts (`] + (flag ? [] : [...])`) included.
            if let list = block.firstMatch(of: /dependencies: ([\s\S]*?)\n\s*path:/)?.1 {
                // By-name dependencies only: products of other packages are `.product(name: …)`.
                let withoutProducts = list.replacing(/\.product\([^)]*\)/, with: "")
                dependencies = withoutProducts.matches(of: /"([^"]+)"/).map { String($0.1) }
            }
            targets.append(Target(name: String(name), path: String(path), dependencies: dependencies))
        }
        return targets
    }

    static func group(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        guard parts.count >= 3, parts[0] == "Sources", parts[1] == "Host" else { return nil }
        return String(parts[2])
    }

    @Test func everyHostTargetIsInAGroupWithAReadme() throws {
        let targets = try Self.targets()
        let host = targets.filter { $0.path.hasPrefix("Sources/Host/") }
        #expect(host.count >= 20, "Package.swift was read: \(host.map(\.name))")
        for target in host {
            let group = try #require(Self.group(target.path), "\(target.name)")
            #expect(Self.ranks[group] != nil, "\(target.name) is in \(group), not a known group")
        }
        for group in Self.ranks.keys {
            let readme = repositoryRoot.appendingPathComponent("Sources/Host/\(group)/README.md").path
            #expect(FileManager.default.fileExists(atPath: readme), "\(group) has a README saying what lives there")
        }
    }

    @Test func dependenciesPointTowardsTheCore() throws {
        let targets = try Self.targets()
        let groupOf = Dictionary(uniqueKeysWithValues: targets.compactMap { target in
            Self.group(target.path).map { (target.name, $0) }
        })
        var violations: [String] = []
        for target in targets {
            guard let group = groupOf[target.name], let rank = Self.ranks[group] else { continue }
            for dependency in target.dependencies {
                guard let other = groupOf[dependency], let otherRank = Self.ranks[other] else { continue }
                if otherRank > rank || (otherRank == rank && other != group) {
                    violations.append("\(target.name) (\(group)) → \(dependency) (\(other))")
                }
            }
        }
        #expect(violations.isEmpty, "\(violations)")
        // The rule can fail: a Node target depending on a Cluster one is caught.
        #expect(Self.ranks["Node"] == Self.ranks["Cluster"] && groupOf["MultiNICDaemon"] == "Node"
            && groupOf["MultiNICController"] == "Cluster")
        let daemon = try #require(targets.first { $0.name == "MultiNICDaemon" })
        #expect(daemon.dependencies.contains("MultiNICIPAM") && daemon.dependencies.contains("MultiNICKube"), "parsed: \(daemon.dependencies)")
        #expect(!daemon.dependencies.contains("MultiNICController"), "the daemon does not depend on the controller")
    }
}
