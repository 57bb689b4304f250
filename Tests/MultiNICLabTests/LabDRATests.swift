import Foundation
import MultiNICCore
import MultiNICLab
import Testing

/// The lab's stand-ins for DRA mode: the scheduler's allocator (count, no device twice, matchAttribute) and the API
/// server's conventions (resourceVersion, 409s, the status subresource, selectors).
@Suite struct LabDRATests {
    static func device(_ name: String, driver: String = "nic.test", pool: String = "n1", root: String?) -> LabScheduler.Device {
        LabScheduler.Device(driver: driver, pool: pool, name: name,
                            attributes: root.map { ["resource.kubernetes.io/pcieRoot": $0] } ?? [:])
    }

    static let devices = [
        device("gpu-0", driver: "gpu.test", root: "pci0000:10"), device("gpu-1", driver: "gpu.test", root: "pci0000:14"),
        device("eth1", root: "pci0000:10"), device("eth2", root: "pci0000:14"), device("eth3", root: "pci0000:14"),
        device("eth4", root: nil),
    ]

    @Test func countsAreFilledWithoutTakingADeviceTwice() throws {
        let chosen = try LabScheduler.allocate([.init(name: "nics", driver: "nic.test", count: 3)], constraints: [],
                                               devices: Self.devices, taken: ["nic.test/n1/eth2"]).get()
        #expect(chosen.map(\.device.name) == ["eth1", "eth3", "eth4"])
        #expect(throws: LabScheduler.Unschedulable.self) {
            try LabScheduler.allocate([.init(name: "nics", driver: "nic.test", count: 4)], constraints: [], devices: Self.devices,
                                      taken: ["nic.test/n1/eth2"]).get()
        }
    }

    /// A GPU and two NICs on one PCIe root: only GPU 1's root has two NICs; with one of them taken nothing fits.
    @Test func matchAttributeKeepsTheRequestsOnOneRoot() throws {
        let requests: [LabScheduler.Request] = [.init(name: "gpu", driver: "gpu.test", count: 1), .init(name: "nics", driver: "nic.test", count: 2)]
        let constraint = LabScheduler.Constraint(requests: ["gpu", "nics"], attribute: "resource.kubernetes.io/pcieRoot")
        let chosen = try LabScheduler.allocate(requests, constraints: [constraint], devices: Self.devices, taken: []).get()
        #expect(chosen.map(\.device.name) == ["gpu-1", "eth2", "eth3"])
        #expect(chosen.map(\.request) == ["gpu", "nics", "nics"])
        let full = LabScheduler.allocate(requests, constraints: [constraint], devices: Self.devices, taken: ["nic.test/n1/eth3"])
        guard case .failure(let reason) = full else { Issue.record("allocated \(full)"); return }
        #expect(reason.description.contains("sharing resource.kubernetes.io/pcieRoot"))
        // A device without the attribute never satisfies the constraint.
        let alone = LabScheduler.allocate([.init(name: "nics", driver: "nic.test", count: 1)], constraints: [constraint],
                                          devices: [Self.device("eth4", root: nil)], taken: [])
        #expect((try? alone.get()) == nil)
    }

    @Test func slicesBecomeDevicesWithQualifiedAttributes() throws {
        let slice = try JSONValue.parse(#"{"spec":{"driver":"nic.test","pool":{"name":"n1"},"devices":[{"name":"eth1","attributes":{"#
            + #""ifName":{"string":"eth1"},"numaNode":{"int":1},"rdma":{"bool":false},"resource.kubernetes.io/pcieRoot":{"string":"pci0000:10"}}}]}}"#)
        let device = try #require(LabScheduler.Device.all(in: [slice]).first)
        #expect(device.attributes == ["nic.test/ifName": "eth1", "nic.test/numaNode": "1", "nic.test/rdma": "false",
                                      "resource.kubernetes.io/pcieRoot": "pci0000:10"])
    }

    @Test func theStoreFollowsTheAPIsConventions() throws {
        let store = LabObjectStore()
        let claims = "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims"
        func send(_ method: String, _ path: String, _ body: String? = nil, query: [String: String] = [:]) -> (Int, JSONValue) {
            store.handle(method: method, path: path, query: query, body: body.map { Array($0.utf8) })
        }
        let (created, claim) = send("POST", claims, #"{"metadata":{"name":"c"},"spec":{"a":1},"status":{"x":1}}"#)
        #expect(created == 201 && claim.objectValue?["status"] == nil, "status is not written by a create")
        let version = claim.objectValue?["metadata"]?.objectValue?["resourceVersion"]?.stringValue ?? ""
        #expect(send("POST", claims, #"{"metadata":{"name":"c"}}"#).0 == 409)
        let (statusWritten, withStatus) = send("PUT", claims + "/c/status", #"{"metadata":{"name":"c","resourceVersion":"\#(version)"},"status":{"ok":true},"spec":{"a":2}}"#)
        #expect(statusWritten == 200 && withStatus.objectValue?["status"] == .object(["ok": .bool(true)]))
        #expect(withStatus.objectValue?["spec"] == .object(["a": .integer(1)]), "the status subresource leaves the spec")
        #expect(send("PUT", claims + "/c/status", #"{"metadata":{"name":"c","resourceVersion":"\#(version)"},"status":{}}"#).0 == 409,
                "a stale resourceVersion conflicts")
        let (_, updated) = send("PUT", claims + "/c", #"{"metadata":{"name":"c"},"spec":{"a":3},"status":{"ok":false}}"#)
        #expect(updated.objectValue?["status"] == .object(["ok": .bool(true)]), "the main resource leaves the status")
        #expect(updated.objectValue?["metadata"]?.objectValue?["generation"] == .integer(2))

        let slices = "/apis/resource.k8s.io/v1/resourceslices"
        for (name, node) in [("a", "n1"), ("b", "n2")] {
            #expect(send("POST", slices, #"{"metadata":{"name":"\#(name)","labels":{"k":"\#(name)"}},"spec":{"nodeName":"\#(node)","driver":"d"}}"#).0 == 201)
        }
        func names(_ query: [String: String]) -> [String] {
            (send("GET", slices, query: query).1.objectValue?["items"]?.arrayValue ?? []).compactMap { $0.objectValue?["metadata"]?.objectValue?["name"]?.stringValue }
        }
        #expect(names([:]) == ["a", "b"])
        #expect(names(["fieldSelector": "spec.nodeName=n2,spec.driver=d"]) == ["b"])
        #expect(names(["fieldSelector": "spec.driver=other"]).isEmpty && names(["labelSelector": "k=a"]) == ["a"])
        #expect(send("GET", claims).1.objectValue?["items"]?.arrayValue?.count == 1, "namespaced lists hold only their kind")
        #expect(send("DELETE", slices + "/a").0 == 200 && send("DELETE", slices + "/a").0 == 404)
        #expect(send("GET", "/nothing").0 == 404 && send("PATCH", slices + "/b").0 == 405)
    }
}
