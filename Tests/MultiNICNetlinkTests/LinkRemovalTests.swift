import Foundation
import MultiNICCore
@testable import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// Link deletion returns when the kernel has announced the links deleted (their names free, their addresses gone),
/// while the request's acknowledgement (after the kernel's RCU barrier) is awaited on a thread of its own.
@Suite(.ownThread, .enabled(if: CNIRun.available, "needs root and iproute2 (CI runs as root)"), .serialized)
struct LinkRemovalTests {
    private static let request = VirtualLinkRequest(kind: .macvlan(mode: "bridge"))

    private static func withPod(_ body: (NetlinkLinkOperations, _ pod: String) throws -> Void) throws {
        try TestNamespace.withMany(2) { names in
            try TestNamespace.ip("-n", names[0], "link", "add", "eth1", "type", "veth", "peer", "name", "eth1-peer")
            let links = try NetlinkLinkOperations(host: try NetworkNamespace.netlink(path: "/var/run/netns/" + names[0]),
                                                  podNamespacePath: "/var/run/netns/" + names[1])
            try body(links, names[1])
        }
    }

    /// Once deleteLinks returns, the kernel no longer lists the links or their addresses, and their names can be
    /// used again at once; no background request is left once the kernel has acknowledged.
    @Test func deletedLinksAreGoneWhenTheCallReturns() throws {
        try Self.withPod { links, pod in
            for round in 0..<5 {
                for nic in 0..<2 {
                    try links.createLink(Self.request, master: "eth1", ifName: "net1-\(nic)")
                    try links.addAddress(try #require(IPNetwork("192.0.2.\(10 * nic + round + 1)/24")), ifName: "net1-\(nic)")
                }
                try links.createLink(Self.request, master: "eth1", ifName: "net2-0")
                // Two links of one group (one kernel batch), then one alone.
                try links.deleteLinks(ifNames: ["net1-0", "net1-1"])
                let shown = try TestNamespace.ip("-n", pod, "-o", "addr", "show")
                #expect(!shown.contains("net1-") && !shown.contains("192.0.2."), "round \(round): \(shown)")
                try links.deleteLinks(ifNames: ["net2-0"])
                #expect(try links.linkKinds().keys.sorted() == ["lo"], "round \(round)")
            }
            let deadline = Date().addingTimeInterval(10)
            while LinkRemoval.inFlight.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(10_000) }
            #expect(LinkRemoval.inFlight.load(ordering: .relaxed) == 0, "every background request finished")
        }
    }

    /// A request the kernel refuses is reported (not waited for until the timeout), and with every background slot
    /// taken the deletion is still done, by waiting for the acknowledgement.
    @Test func aRefusedDeletionFailsAndAFullHouseStillDeletes() throws {
        try Self.withPod { links, pod in
            let namespace = try NetworkNamespace.netlink(path: "/var/run/netns/" + pod)
            let loopback = try #require(try namespace.links().first { $0.name == "lo" })
            let started = Date()
            #expect(throws: NetlinkError.self) {
                try LinkRemoval.remove(indices: [loopback.index], inNamespaceAt: "/var/run/netns/" + pod) { () throws(NetlinkError) in
                    try namespace.deleteLink(loopback)
                }
            }
            #expect(Date().timeIntervalSince(started) < 10, "the refusal ends the wait")

            LinkRemoval.inFlight.wrappingAdd(LinkRemoval.maximumInFlight, ordering: .relaxed)
            defer { LinkRemoval.inFlight.wrappingSubtract(LinkRemoval.maximumInFlight, ordering: .relaxed) }
            try links.createLink(Self.request, master: "eth1", ifName: "net1-0")
            try links.deleteLinks(ifNames: ["net1-0"])
            #expect(try links.linkKinds().keys.sorted() == ["lo"])
        }
    }
}
