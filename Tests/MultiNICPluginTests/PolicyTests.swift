import MultiNICCore
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

/// Every policy rule, through the real loaded libraries.
@Suite struct PolicyTests {
    /// Four NICs on three networks: eth1, eth2 on 10.0.1.0/24 … as a GPU host would report them.
    static let nics = [
        NICCandidate(name: "eth3", netAddress: "10.0.3.0/24", vendor: "1af4", product: "1000", numaNode: 1, speedMbps: 25_000),
        NICCandidate(name: "eth1", netAddress: "10.0.1.0/24", vendor: "15b3", product: "1019", numaNode: 0, speedMbps: 100_000),
        NICCandidate(name: "eth2", netAddress: "10.0.2.0/24", vendor: "15b3", product: "101d", numaNode: 1, speedMbps: 100_000),
        NICCandidate(name: "eth4", netAddress: "10.0.4.0/24", vendor: "15b3", product: "1019", numaNode: nil, speedMbps: nil),
    ]
    static let highspeed = DeviceClassSpec(ids: [DeviceID(vendor: "15b3", products: ["1019", "101d"])])

    func select(_ strategy: String, _ request: PodRequest = PodRequest(), _ context: SelectionContext = SelectionContext(),
                nics: [NICCandidate] = PolicyTests.nics) throws -> Selection {
        try BuiltPlugins.registry().policy(strategy).select(nics, request: request, context: context)
    }

    func chosen(_ selection: Selection) -> [String] { selection.chosen.map(\.name) }

    // MARK: - none

    @Test func noneUsesAllNICsByNetworkWhenNothingIsListed() throws {
        let selection = try select("none")
        #expect(chosen(selection) == ["eth1", "eth2", "eth3", "eth4"])
        #expect(selection.skipped.isEmpty)
    }

    @Test func noneFollowsMasterNetsOrderAndSkipsOtherNetworks() throws {
        let selection = try select("none", PodRequest(), SelectionContext(masterNets: ["10.0.3.0/24", "10.0.1.0/24"]))
        #expect(chosen(selection) == ["eth3", "eth1"])
        #expect(selection.chosen.first?.reason == "masterNets[0] 10.0.3.0/24")
        #expect(selection.skipped.map(\.reason) == Array(repeating: "network 10.0.2.0/24 is not in the network's masterNets", count: 1)
            + ["network 10.0.4.0/24 is not in the network's masterNets"])
    }

    @Test func noneHonoursThePodsMastersInOrderThenTruncates() throws {
        let selection = try select("none", PodRequest(nics: 2, masters: ["eth2", "nope", "eth3", "eth1"]))
        #expect(chosen(selection) == ["eth2", "eth3"])
        #expect(selection.skipped.map(\.description) == [
            "nope (): requested in masters but not a usable NIC on this host",
            "eth4 (10.0.4.0/24): not in the pod's masters",
            "eth1 (10.0.1.0/24): beyond the pod's nics=2",
        ])
    }

    // MARK: - devClass

    @Test func devClassFiltersThenTruncates() throws {
        let context = SelectionContext(deviceClasses: ["highspeed": Self.highspeed])
        let selection = try select("devClass", PodRequest(nics: 2, deviceClass: "highspeed"), context)
        // Upstream truncated to 2 first (eth1, eth2 by network order … then filtered); here eth3 is filtered
        // out first, so two matching NICs are chosen even with a non-matching NIC early in the order.
        #expect(chosen(selection) == ["eth1", "eth2"])
        let ordered = try select("devClass", PodRequest(nics: 2, masters: ["eth3", "eth1", "eth4"], deviceClass: "highspeed"), context)
        #expect(chosen(ordered) == ["eth1", "eth4"])
        #expect(ordered.skipped.contains { $0.name == "eth3" && $0.reason == "1af4:1000 is not in DeviceClass highspeed" })
    }

    @Test func devClassNamesAMissingClass() throws {
        #expect(throws: PolicyError.unknownDeviceClass("fast", available: ["highspeed"])) {
            try select("devClass", PodRequest(deviceClass: "fast"), SelectionContext(deviceClasses: ["highspeed": Self.highspeed]))
        }
    }

    // MARK: - topology

    @Test func topologyPrefersTheNUMANodeWithMostGPUs() throws {
        let context = SelectionContext(gpusPerNUMA: [1: 6, 0: 2])
        let selection = try select("topology", PodRequest(nics: 2), context)
        #expect(chosen(selection) == ["eth2", "eth3"], "NUMA 1 holds 6 GPUs; ties keep network order")
        #expect(selection.chosen[0].reason.hasPrefix("NUMA 1 holds 6 of the pod's GPUs"))
        // Masters are honoured (upstream ignored them).
        #expect(chosen(try select("topology", PodRequest(masters: ["eth1", "eth3"]), context)) == ["eth3", "eth1"])
        // No GPUs: base order.
        #expect(chosen(try select("topology", PodRequest(nics: 2))) == ["eth1", "eth2"])
    }

    // MARK: - perfOpt

    @Test func perfOptTakesTheMostAvailableBandwidth() throws {
        var loaded = Self.nics
        loaded[1].promisedMbps = 80_000  // eth1 has 20G left
        let selection = try select("perfOpt", PodRequest(nics: 2), nics: loaded)
        #expect(chosen(selection) == ["eth2", "eth3"])
        #expect(selection.chosen[0].reason == "100Gbps free of 100Gbps, 0 pod(s)")
        #expect(selection.skipped.map(\.name) == ["eth1", "eth4"], "unknown speed ranks last")
    }

    @Test func perfOptSpreadsPodsOverEqualNICs() throws {
        var equal = Self.nics.filter { $0.speedMbps == 100_000 }
        equal[0].attachments = 3
        #expect(chosen(try select("perfOpt", PodRequest(nics: 1), nics: equal)) == ["eth2"])
        equal[1].attachments = 4
        #expect(chosen(try select("perfOpt", PodRequest(nics: 1), nics: equal)) == ["eth1"])
    }

    @Test func perfOptWithoutSpeedsKeepsBaseOrder() throws {
        let unknown = Self.nics.map { nic -> NICCandidate in
            var copy = nic
            copy.speedMbps = nil
            return copy
        }
        let selection = try select("perfOpt", nics: unknown)
        #expect(chosen(selection) == ["eth1", "eth2", "eth3", "eth4"])
        #expect(selection.chosen.allSatisfy { $0.reason == "link speed unknown, 0 pod(s)" })
    }

    // MARK: - costOpt

    @Test func costOptTakesTheFewestNICsThatReachTheTarget() throws {
        let selection = try select("costOpt", PodRequest(target: "150Gbps"))
        #expect(chosen(selection) == ["eth1", "eth2"])
        #expect(selection.chosen[1].reason == "100Gbps free of 100Gbps, 0 pod(s); 200Gbps of 150Gbps so far")
        #expect(selection.skipped.map(\.reason) == ["not needed: 150Gbps reached", "not needed: 150Gbps reached"])
        // One NIC suffices for 80G; the least-loaded of the two 100G NICs wins.
        var loaded = Self.nics
        loaded[1].attachments = 2
        loaded[1].promisedMbps = 10_000
        #expect(chosen(try select("costOpt", PodRequest(target: "80Gbps"), nics: loaded)) == ["eth2"])
    }

    @Test func costOptTakesEverythingWhenTheTargetIsUnreachable() throws {
        let selection = try select("costOpt", PodRequest(target: "1Tbps"))
        #expect(chosen(selection) == ["eth1", "eth2", "eth3", "eth4"])
        #expect(selection.chosen.allSatisfy { $0.reason.hasSuffix("target 1000Gbps unreachable: all NICs give 225Gbps") })
    }

    @Test func costOptUsesTheNetworkTargetAndThePodOverridesIt() throws {
        let context = SelectionContext(strategyTarget: "120Gbps")
        #expect(chosen(try select("costOpt", PodRequest(), context)) == ["eth1", "eth2"])
        #expect(chosen(try select("costOpt", PodRequest(target: "50Gbps"), context)) == ["eth1"])
        // `nics` caps the count even when the target needs more.
        let capped = try select("costOpt", PodRequest(nics: 1, target: "150Gbps"))
        #expect(chosen(capped) == ["eth1"])
        #expect(capped.skipped.first?.reason == "beyond the pod's nics=1")
    }

    @Test func costOptWithoutTargetOrSpeeds() throws {
        #expect(chosen(try select("costOpt")) == ["eth1"], "no target: the single least-loaded NIC")
        let unknown = Self.nics.map { nic -> NICCandidate in
            var copy = nic
            copy.speedMbps = nil
            return copy
        }
        let selection = try select("costOpt", PodRequest(target: "10Gbps"), nics: unknown)
        #expect(chosen(selection).count == 4, "no speed known: the target cannot be shown reachable, so all")
        #expect(throws: PolicyError.badTarget("fast")) { try select("costOpt", PodRequest(target: "fast")) }
    }

    @Test(arguments: [("25Gbps", 25_000), ("800Mbps", 800), ("1.5Tbps", 1_500_000), ("10G", 10_000), ("100 mb/s", 100),
                      ("0Gbps", nil), ("fast", nil), ("10", nil),
                      // Hostile targets (a pod's cni-args): refused, never converted (1e300Gbps trapped the daemon).
                      ("1e300Gbps", nil), ("infGbps", nil), ("nanGbps", nil), ("1001Tbps", nil), ("1000Tbps", 1_000_000_000),
                      ("9223372036854775807Mbps", nil), ("1kbps", nil)] as [(String, Int?)])
    func bandwidthParsing(text: String, mbps: Int?) {
        #expect(SelectionSupport.parseBandwidth(text) == mbps)
    }

    @Test func podRequestsReadCNIArgs() throws {
        let args = try JSONValue.parse(#"{"nics": 2, "masters": ["eth1"], "class": "highspeed", "target": "50Gbps"}"#)
        #expect(try PodRequest(cniArgs: args) == PodRequest(nics: 2, masters: ["eth1"], deviceClass: "highspeed", target: "50Gbps"))
        #expect(throws: FieldIssue.self) { try PodRequest(cniArgs: JSONValue.parse(#"{"nics": -1}"#)) }
        #expect(try PodRequest(cniArgs: JSONValue.parse(#"{"nics": "3"}"#)).nics == 3)
    }
}
