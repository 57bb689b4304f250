import Foundation
import MultiNICController
import MultiNICCore
import MultiNICTestSupport
import Testing

/// Conditions and Events on the network: what `kubectl wait --for=condition=Ready` and `kubectl describe` read.
@Suite struct NetworkConditionTests {
    @Test func conditionsFollowRenderingAndRoutes() {
        func byType(_ conditions: [Condition]) -> [String: Condition] {
            Dictionary(uniqueKeysWithValues: conditions.map { ($0.type, $0) })
        }
        let ready = byType(NetworkConditions.compute(failure: nil, routeStatus: .success, routeMessage: nil, generation: 3))
        #expect(ready["Ready"]?.status == .true && ready["Ready"]?.observedGeneration == 3)
        let waiting = byType(NetworkConditions.compute(failure: nil, routeStatus: .waitForRoutes, routeMessage: nil, generation: 3))
        #expect(waiting["Ready"]?.status == .unknown && waiting["PoolsReady"]?.status == .true)
        let routeFailed = byType(NetworkConditions.compute(failure: nil, routeStatus: .failed, routeMessage: "node-1: down",
                                                           generation: 3))
        #expect(routeFailed["Ready"]?.reason == "RouteFailed" && routeFailed["RoutesReady"]?.message == "node-1: down")
        let invalid = byType(NetworkConditions.compute(failure: .invalid("spec.subnet: bad"), routeStatus: .notApplicable,
                                                       routeMessage: nil, generation: 1))
        #expect(invalid["Ready"]?.status == .false && invalid["Ready"]?.reason == "InvalidNetwork")
    }

    @Test func transitionTimesMoveOnlyWhenTheStatusChanges() {
        let first = Condition.merge([Condition(type: "Ready", status: .false, reason: "A")], previous: nil, now: "t1")
        let same = Condition.merge([Condition(type: "Ready", status: .false, reason: "B")], previous: first, now: "t2")
        #expect(same.first?.lastTransitionTime == "t1", "a new reason with the same status keeps the time")
        let flipped = Condition.merge([Condition(type: "Ready", status: .true, reason: "C")], previous: same, now: "t3")
        #expect(flipped.first?.lastTransitionTime == "t3")
    }

    static func events(_ store: any ResourceStore) async throws -> [(type: String, reason: String, message: String)] {
        try await store.listObjects(apiVersion: "v1", kind: "Event", labels: [:]).compactMap { event in
            guard let fields = event.objectValue, let type = fields["type"]?.stringValue,
                  let reason = fields["reason"]?.stringValue else { return nil }
            #expect(fields["involvedObject"]?.objectValue?["kind"] == .string("MultiNicNetwork"))
            return (type, reason, fields["message"]?.stringValue ?? "")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aHealthyNetworkIsReadyAndARouteFailureIsAWarning(on kind: StoreKind) async throws {
        let harness = try await ControllerHarness.start(kind)
        await harness.fleet.failRoutes(on: "node-1", "eth2 is down")
        for index in 0..<3 { try await harness.join("node-\(index)", host: index) }
        _ = try await harness.store.create(try ControllerHarness.network(ControllerHarness.seed))
        #expect(await harness.settle())
        var conditions = try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status?.conditions ?? []
        #expect(conditions.first { $0.type == "Ready" }?.status == .false)
        #expect(conditions.first { $0.type == "RoutesReady" }?.reason == "RouteFailed")
        #expect(conditions.first { $0.type == "PoolsReady" }?.status == .true)
        var events = try await Self.events(harness.store)
        #expect(events.contains { $0.type == "Normal" && $0.reason == "Rendered" }, "\(events)")
        #expect(events.contains { $0.type == "Warning" && $0.reason == "RouteFailed" && $0.message.contains("node-1: eth2 is down") },
                "\(events)")
        await harness.fleet.failRoutes(on: "node-1", nil)
        try await Task.sleep(for: .seconds(6))
        #expect(await harness.settle())
        conditions = try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status?.conditions ?? []
        #expect(conditions.allSatisfy { $0.status == .true }, "\(conditions)")
        events = try await Self.events(harness.store)
        #expect(events.contains { $0.type == "Normal" && $0.reason == "RoutesApplied" }, "\(events)")
    }

    @Test(arguments: StoreKind.allCases)
    func anInvalidNetworkSaysWhichFieldInItsConditionAndAnEvent(on kind: StoreKind) async throws {
        let harness = try await ControllerHarness.start(kind)
        try await harness.join("node-0", host: 0)
        let yaml = ControllerHarness.seed.replacingOccurrences(of: "cniVersion: \"0.3.0\"", with: "cniVersion: \"0.2.0\"")
        #expect(yaml != ControllerHarness.seed)
        _ = try await harness.store.create(try ControllerHarness.network(yaml))
        #expect(await harness.settle())
        let status = try #require(try await harness.store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status)
        let ready = try #require(status.conditions?.first { $0.type == "Ready" })
        #expect(ready.status == .false && ready.reason == "InvalidNetwork" && ready.message.contains("spec.plugin.cniVersion"))
        #expect(try await harness.store.list(NetworkAttachmentDefinitionSpec.self).isEmpty, "no NAD that every ADD would fail")
        let events = try await Self.events(harness.store)
        #expect(events.contains { $0.type == "Warning" && $0.reason == "InvalidNetwork" }, "\(events)")
    }
}

/// The Event as the API defines it (`io.k8s.api.core.v1.Event`): only its fields, of their types.
@Suite struct EventObjectTests {
    @Test func theEventHasOnlyTheAPIsFieldsOfTheirTypes() throws {
        let now = Date(timeIntervalSince1970: 1_796_000_000.25)
        let event = try #require(EventRecorder.event(
            apiVersion: "net.cogadvisor.io/v1", kind: "MultiNicNetwork", name: "multi-nic-sample", uid: "u-1",
            objectNamespace: nil, namespace: "default", type: .warning, reason: "RouteFailed",
            message: String(repeating: "x", count: 2000), component: "multi-nic-operator", now: now).objectValue)
        let eventFields: Set<String> = ["apiVersion", "kind", "metadata", "involvedObject", "reason", "message", "type", "source",
                                        "reportingComponent", "reportingInstance", "firstTimestamp", "lastTimestamp", "count",
                                        "eventTime", "series", "action", "related"]
        #expect(Set(event.keys).isSubset(of: eventFields), "\(event.keys)")
        #expect(event["apiVersion"] == .string("v1") && event["kind"] == .string("Event"))
        let involved = try #require(event["involvedObject"]?.objectValue)
        #expect(Set(involved.keys).isSubset(of: ["apiVersion", "kind", "name", "namespace", "uid", "resourceVersion", "fieldPath"]))
        #expect(involved["namespace"] == nil, "a cluster-scoped object has no namespace")
        let name = try #require(event["metadata"]?.objectValue?["name"]?.stringValue)
        #expect(NameRules.subdomainProblem(name) == nil && name.hasPrefix("multi-nic-sample."), "\(name)")
        #expect(event["type"] == .string("Warning") && event["count"] == .integer(1))
        #expect((event["message"]?.stringValue?.count ?? 0) <= 1024, "messages are bounded")
        for key in ["firstTimestamp", "lastTimestamp"] {
            let stamp = try #require(event[key]?.stringValue)
            #expect(stamp.hasSuffix("Z") && (try? Date(stamp, strategy: .iso8601)) != nil, "RFC 3339: \(stamp)")
        }
        let later = EventRecorder.event(apiVersion: "net.cogadvisor.io/v1", kind: "MultiNicNetwork", name: "multi-nic-sample",
                                        uid: "u-1", objectNamespace: nil, namespace: "default", type: .normal, reason: "R",
                                        message: "", component: "c", now: now.addingTimeInterval(0.001))
        #expect(later.objectValue?["metadata"]?.objectValue?["name"]?.stringValue != name, "a later event is a new object")
        let namespaced = EventRecorder.event(apiVersion: "v1", kind: "Pod", name: "p", uid: nil, objectNamespace: "team",
                                             namespace: "team", type: .normal, reason: "R", message: "", component: "c", now: now)
        #expect(namespaced.objectValue?["involvedObject"]?.objectValue?["namespace"] == .string("team"))
    }
}
