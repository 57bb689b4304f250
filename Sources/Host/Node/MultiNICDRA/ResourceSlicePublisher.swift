import Foundation
import MultiNICCore
import MultiNICKube

/// Publishes a node's ResourceSlices through the API: the pool's slices are replaced only when its devices changed,
/// with the pool's generation one above what was published (the scheduler then ignores older slices), and slices no
/// longer needed are deleted.
public struct ResourceSlicePublisher: Sendable {
    /// What one publication did.
    public struct Outcome: Sendable, Hashable {
        public var generation: Int
        public var written: Int
        public var deleted: Int
        public var unchanged: Bool

        public init(generation: Int, written: Int, deleted: Int, unchanged: Bool) {
            self.generation = generation
            self.written = written
            self.deleted = deleted
            self.unchanged = unchanged
        }
    }

    let client: KubeClient
    public let driver: String
    public let node: String

    public init(client: KubeClient, driver: String, node: String) {
        self.client = client
        self.driver = driver
        self.node = node
    }

    static let collection = "/apis/resource.k8s.io/v1/resourceslices"

    /// The slices of this node and driver as the API has them.
    public func published() async throws(KubeError) -> [JSONValue] {
        let selector = KubePaths.escape("spec.nodeName=\(node),spec.driver=\(driver)")
        let body = try await client.call("GET", Self.collection + "?fieldSelector=" + selector)
        return (try? JSONValue.parse(String(decoding: body, as: UTF8.self)))?.objectValue?["items"]?.arrayValue ?? []
    }

    /// Makes the API hold exactly `devices` for this node.
    public func publish(_ devices: [DRADevice]) async throws(KubeError) -> Outcome {
        let existing = try await published()
        let current = existing.compactMap { $0.objectValue?["spec"]?.objectValue?["pool"]?.objectValue?["generation"]?.intValue }.max() ?? 0
        let desiredSame = ResourceSlicePlan.slices(driver: driver, node: node, nodeUID: nil, devices: devices, generation: current)
        let names = Set(desiredSame.compactMap(Self.name))
        if ResourceSlicePlan.devices(in: existing) == ResourceSlicePlan.devices(in: desiredSame),
           Set(existing.compactMap(Self.name)) == names,
           existing.allSatisfy({ Self.sliceCount($0) == desiredSame.count }) {
            return Outcome(generation: current, written: 0, deleted: 0, unchanged: true)
        }
        let generation = current + 1
        let desired = ResourceSlicePlan.slices(driver: driver, node: node, nodeUID: nil, devices: devices, generation: generation)
        let byName = Dictionary(existing.compactMap { slice in Self.name(slice).map { ($0, slice) } }) { first, _ in first }
        var written = 0
        for var slice in desired {
            guard let name = Self.name(slice), var fields = slice.objectValue, var metadata = fields["metadata"]?.objectValue else { continue }
            metadata["labels"] = .object(DRANames.sliceLabels.mapValues(JSONValue.string))
            if let version = byName[name]?.objectValue?["metadata"]?.objectValue?["resourceVersion"] {
                metadata["resourceVersion"] = version
                fields["metadata"] = .object(metadata)
                slice = .object(fields)
                _ = try await client.call("PUT", Self.collection + "/" + KubePaths.escape(name), body: Array(slice.description.utf8))
            } else {
                fields["metadata"] = .object(metadata)
                slice = .object(fields)
                _ = try await client.call("POST", Self.collection, body: Array(slice.description.utf8))
            }
            written += 1
        }
        var deleted = 0
        for name in byName.keys.sorted() where !desired.contains(where: { Self.name($0) == name }) {
            do {
                _ = try await client.call("DELETE", Self.collection + "/" + KubePaths.escape(name))
            } catch .api(404, _) {}
            deleted += 1
        }
        return Outcome(generation: generation, written: written, deleted: deleted, unchanged: false)
    }

    static func name(_ slice: JSONValue) -> String? { slice.objectValue?["metadata"]?.objectValue?["name"]?.stringValue }

    static func sliceCount(_ slice: JSONValue) -> Int? {
        slice.objectValue?["spec"]?.objectValue?["pool"]?.objectValue?["resourceSliceCount"]?.intValue
    }
}
