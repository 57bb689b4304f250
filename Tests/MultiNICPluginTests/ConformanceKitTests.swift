import Foundation
@testable import MultiNICConformance
import MultiNICCore
import MultiNICTestSupport
import Testing

/// `multinicctl plugins verify`: the repository's plugins and the out-of-tree examples pass it, and each kind of
/// mistake a third-party author can make is caught.
@Suite(.ownThread, .serialized) struct ConformanceKitTests {
    /// Scratch namespaces when root (CI); elsewhere those checks are reported skipped.
    static let root = getuid() == 0

    @Test func everyRepositoryPluginPasses() throws {
        for (name, library) in try BuiltPlugins.repositoryPlugins() {
            let checks = PluginConformance.verify(path: library.path, scratchNamespaces: Self.root)
            let failed = checks.filter { $0.outcome == .failed }
            #expect(failed.isEmpty, "\(name): \(failed)")
            #expect(checks.first?.name == "loads" && checks.count >= 9, "\(name): \(checks)")
            if Self.root && name.contains("macvlan") {
                #expect(checks.filter { $0.name.hasPrefix("native") && $0.outcome == .passed }.count == 4, "\(checks)")
            }
        }
        let leftover = try TestNamespace.ip("netns", "list")
        #expect(!leftover.contains("mnverify-"), "scratch namespaces removed: \(leftover)")
    }

    @Test func theOutOfTreeExamplesPass() throws {
        for (package, product) in [("bridge", "multinic-backend-bridge"), ("roundrobin", "multinic-policy-roundrobin")] {
            let library = try OutOfTreePluginTests.build(package, product: product)
            let checks = PluginConformance.verify(path: library.path, scratchNamespaces: Self.root)
            #expect(checks.allSatisfy { $0.outcome != .failed }, "\(package): \(checks.filter { $0.outcome == .failed })")
        }
    }

    @Test func aFileThatIsNotAPluginFailsToLoad() throws {
        let fixture = try #require(try BuiltPlugins.libraries(prefix: "libmultinic-fixture-notaplugin").first)
        let checks = PluginConformance.verify(path: fixture.path, scratchNamespaces: false)
        #expect(checks.count == 1 && checks[0].outcome == .failed && checks[0].detail.contains("no multinic_plugin_entry"))
    }

    /// A policy that returns a NIC it was not given, more than `nics`, outside `masters`, twice, without reasons.
    struct CarelessPolicy: AttachPolicy {
        func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError) -> Selection {
            let chosen = (candidates + candidates.prefix(1)).map { NICDecision($0, "") }
                + [NICDecision(name: "ib0", netAddress: "", reason: "mine")]
            return Selection(chosen: chosen)
        }
    }

    @Test func aPolicyBreakingTheRankingInvariantsIsCaught() {
        let checks = PolicyConformance.check(CarelessPolicy())
        let failed = checks.filter { $0.outcome == .failed }
        #expect(failed.count == 6, "every request shape and the empty node fail: \(checks)")
        let masters = checks.first { $0.name == "ranking for masters: eth3, eth1" }
        for problem in ["not candidates: ib0", "chose a NIC twice", "not in the pod's masters", "no reason for eth1"] {
            #expect(masters?.detail.contains(problem) == true, "\(problem): \(masters?.detail ?? "")")
        }
        #expect(checks.first { $0.name == "ranking for nics: 2" }?.detail.contains("chose 6 NICs for nics: 2") == true)
        let empty = PolicyConformance.check(PolicyConformanceTestNone())
        #expect(empty.allSatisfy { $0.outcome == .passed }, "\(empty)")
    }

    /// The smallest correct policy: the candidates in order, as many as asked, masters honoured, a reason each.
    struct PolicyConformanceTestNone: AttachPolicy {
        func select(_ candidates: [NICCandidate], request: PodRequest, context: SelectionContext) throws(PolicyError) -> Selection {
            let allowed = request.masters.isEmpty ? candidates : candidates.filter { request.masters.contains($0.name) }
            let count = min(request.nics ?? allowed.count, allowed.count)
            return Selection(chosen: allowed.prefix(count).map { NICDecision($0, "in order") },
                             skipped: candidates.filter { candidate in !allowed.prefix(count).contains { $0.name == candidate.name } }
                                 .map { NICDecision($0, "not needed") })
        }
    }

    @Test func aDelegateConfigCarryingMultiNICKeysOrNoAddressIsCaught() throws {
        let address = try #require(IPNetwork("192.168.0.1/18"))
        let attachment = NICAttachment(networkName: "net", cniVersion: "1.0.0", plugin: ["type": .string("x")], master: "eth1",
                                       address: address)
        let leaky: JSONValue = .object(["cniVersion": .string("1.0.0"), "name": .string("net"), "type": .string("x"),
                                        "masterNets": .array([]), "daemonPort": .integer(11000)])
        let check = BackendConformance.delegateProblems(leaky, attachment: attachment, address: address, label: "t")
        #expect(check.outcome == .failed)
        #expect(check.detail.contains("ipam is not static with 192.168.0.1/18"))
        #expect(check.detail.contains("MultiNIC-only keys a delegate would misread: daemonPort, masterNets"), "\(check.detail)")
        let good: JSONValue = .object(["cniVersion": .string("1.0.0"), "name": .string("net"), "type": .string("x"),
                                       "ipam": .object(["type": .string("static"),
                                                        "addresses": .array([.object(["address": .string("192.168.0.1/18")])])])])
        #expect(BackendConformance.delegateProblems(good, attachment: attachment, address: address, label: "t").outcome == .passed)
    }
}
