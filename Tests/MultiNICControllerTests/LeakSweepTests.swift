import Foundation
import MultiNICController
import MultiNICCore
import MultiNICRender
import MultiNICTestSupport
import Testing

/// Pods as a test sets them: per node, by name, or failing.
actor FakePodDirectory: PodDirectory {
    var onNode: [String: Set<String>] = [:]
    var byName: [String: String] = [:]
    var failing = false
    var nodeLists = 0

    func set(node: String, uids: Set<String>) { onNode[node] = uids }
    func set(namespace: String, name: String, uid: String?) { byName[namespace + "/" + name] = uid }
    func fail(_ flag: Bool) { failing = flag }

    struct Unavailable: Error {}

    func podUIDs(onNode node: String) throws -> Set<String> {
        if failing { throw Unavailable() }
        nodeLists += 1
        return onNode[node] ?? []
    }

    func podUID(namespace: String, name: String) throws -> String? {
        if failing { throw Unavailable() }
        return byName[namespace + "/" + name]
    }
}

@Suite struct ControllerLeakSweepTests {
    func holder(_ name: String, uid: String) -> PodLeases {
        PodLeases(namespace: "default", name: name, uid: uid, addresses: ["192.168.0.\(name.count)"])
    }

    @Test func podKeyedLeasesWithoutAUIDAreJudgedByName() async throws {
        let fleet = FakeFleet()
        await fleet.add(node: "n1", host: 1)
        var adopted = [holder("old-live", uid: ""), holder("old-gone", uid: ""), holder("cni-no-uid", uid: "")]
        adopted[0].podKeyed = true
        adopted[1].podKeyed = true
        await fleet.hold(adopted, on: "n1")
        let pods = FakePodDirectory()
        // old-live still runs (on any node); old-gone and cni-no-uid have no pod of their name.
        await pods.set(namespace: "default", name: "old-live", uid: "u7")
        let sweep = LeakSweepReconciler(fleet: fleet, pods: pods, period: .seconds(30))
        _ = await sweep.reconcile("n1")
        let requests = await fleet.releaseRequests["n1"] ?? []
        #expect(requests.map(\.podNames) == [["default/old-gone"]], "only a pod-keyed holder is released by name: \(requests)")
        #expect(requests.first?.podUIDs == [])
    }

    @Test func onlyLeasesOfPodsThatAreGoneAreReleased() async throws {
        let fleet = FakeFleet()
        await fleet.add(node: "n1", host: 1)
        await fleet.hold([holder("live", uid: "u1"), holder("elsewhere", uid: "u2"), holder("gone", uid: "u3"),
                          holder("renamed-later", uid: "u4"), holder("no-uid", uid: "")], on: "n1")
        let pods = FakePodDirectory()
        await pods.set(node: "n1", uids: ["u1"])
        // Missing from the node's list but still there by name (a lagging index): kept.
        await pods.set(namespace: "default", name: "elsewhere", uid: "u2")
        // A new pod took the old one's name: the old UID's leases are leaked.
        await pods.set(namespace: "default", name: "renamed-later", uid: "u9")
        let released = ReleasedLog()
        let sweep = LeakSweepReconciler(fleet: fleet, pods: pods, period: .seconds(30), onOutcome: { node, outcome in
            await released.add(node, outcome)
        })
        #expect(await sweep.reconcile("n1") == .requeue(after: .seconds(30)))
        let requests = await fleet.releaseRequests["n1"] ?? []
        #expect(requests.map { Set($0.podUIDs) } == [["u3", "u4"]], "\(requests)")
        #expect(requests.first?.snapshotTakenAt == 1000, "the release names the snapshot it rests on")
        #expect(await fleet.leaseHolders["n1"]?.map(\.uid).sorted() == ["", "u1", "u2"])
        #expect(await released.nodes == ["n1"])

        // Nothing left to release: no request at all.
        _ = await sweep.reconcile("n1")
        #expect(await fleet.releaseRequests["n1"]?.count == 1)
    }

    @Test func aFailingPodListReleasesNothingAndAnUnreachableDaemonIsSkipped() async throws {
        let fleet = FakeFleet()
        await fleet.add(node: "n1", host: 1)
        await fleet.hold([holder("gone", uid: "u3")], on: "n1")
        let pods = FakePodDirectory()
        await pods.fail(true)
        let outcomes = ReleasedLog()
        let sweep = LeakSweepReconciler(fleet: fleet, pods: pods, period: .seconds(300), onOutcome: { node, outcome in
            await outcomes.add(node, outcome)
        })
        #expect(await sweep.reconcile("n1") == .requeue(after: .seconds(120)), "the period is capped at the two-minute window")
        #expect(await fleet.releaseRequests.isEmpty)
        #expect(await sweep.reconcile("no-daemon") == .requeue(after: .seconds(120)))
        #expect(await pods.nodeLists == 0, "a node without lease holders is never listed")
        #expect(await outcomes.failures == ["n1", "no-daemon"], "each failure is told (the operator counts them for its alert)")
        #expect(await outcomes.nodes.isEmpty)
    }

    @Test func theControllerSweepsEveryNodeAgainAndAgain() async throws {
        let fleet = FakeFleet()
        let store = try EmbeddedStore()
        for (index, node) in ["n1", "n2"].enumerated() {
            await fleet.add(node: node, host: index + 1)
            _ = try await store.create(ClusterNode(metadata: ObjectMeta(name: node), spec: NodeSpec()))
            await fleet.hold([holder("gone-\(node)", uid: "old-\(node)")], on: node)
        }
        let pods = FakePodDirectory()
        let controller = MultiNICController(store: store, fleet: fleet, renderer: NetworkRenderer(registry: try BuiltPlugins.registry()),
                                            pods: pods, sweepPeriod: .milliseconds(200))
        let running = Task { await controller.run(workers: 1) }
        defer { running.cancel() }
        var remaining = 2
        for _ in 0..<3000 where remaining > 0 {
            try await Task.sleep(for: .milliseconds(20))
            remaining = await fleet.leaseHolders.values.map(\.count).reduce(0, +)
        }
        #expect(remaining == 0, "both nodes swept at start")
        // A leak that appears later is found by the next periodic sweep.
        await fleet.hold([holder("later", uid: "old-later")], on: "n2")
        for _ in 0..<3000 where remaining == 0 {
            try await Task.sleep(for: .milliseconds(20))
            if await fleet.releaseRequests["n2"]?.count == 2 { break }
        }
        let requests = await fleet.releaseRequests["n2"]?.count
        let holders = await fleet.leaseHolders["n2"]
        #expect(requests == 2 && holders?.isEmpty == true)
    }
}

actor ReleasedLog {
    /// Nodes where addresses were released, and nodes whose sweep failed, in order.
    var nodes: [String] = []
    var failures: [String] = []
    func add(_ node: String, _ outcome: LeakSweepOutcome) {
        switch outcome {
        case .released(let allocations): if !allocations.isEmpty { nodes.append(node) }
        case .failed: failures.append(node)
        }
    }
}
