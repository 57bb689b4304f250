import MultiNICCore

/// A node's NICs as `resource.k8s.io/v1` ResourceSlices: one pool named after the node, at most
/// ``maxDevicesPerSlice`` devices per slice, every slice of the pool carrying its generation and slice count.
public enum ResourceSlicePlan {
    /// The API's limit on devices in one slice.
    public static let maxDevicesPerSlice = 128
    public static let apiVersion = "resource.k8s.io/v1"

    /// The slices of `node` for `devices` (sorted by name), at `generation`; owned by the Node when its UID is known.
    public static func slices(driver: String, node: String, nodeUID: String?, devices: [DRADevice], generation: Int) -> [JSONValue] {
        let sorted = devices.sorted { $0.name < $1.name }
        let chunks = stride(from: 0, to: max(sorted.count, 1), by: maxDevicesPerSlice).map {
            Array(sorted[min($0, sorted.count)..<min($0 + maxDevicesPerSlice, sorted.count)])
        }
        return chunks.enumerated().map { index, chunk in
            var metadata: [String: JSONValue] = ["name": .string(sliceName(driver: driver, node: node, index: index))]
            if let nodeUID {
                metadata["ownerReferences"] = .array([.object([
                    "apiVersion": .string("v1"), "kind": .string("Node"), "name": .string(node), "uid": .string(nodeUID),
                    "controller": .bool(true),
                ])])
            }
            return .object([
                "apiVersion": .string(apiVersion), "kind": .string("ResourceSlice"), "metadata": .object(metadata),
                "spec": .object([
                    "driver": .string(driver), "nodeName": .string(node),
                    "pool": .object(["name": .string(node), "generation": .integer(Int64(generation)),
                                     "resourceSliceCount": .integer(Int64(chunks.count))]),
                    "devices": .array(chunk.map(\.json)),
                ]),
            ])
        }
    }

    /// `<node>-<driver's first label>-<index>`, shortened to the API's 253 characters.
    public static func sliceName(driver: String, node: String, index: Int) -> String {
        let prefix = driver.split(separator: ".").first.map(String.init) ?? "multinic"
        let suffix = "-\(prefix)-\(index)"
        return String(node.prefix(253 - suffix.count)) + suffix
    }

    /// The devices a published slice list holds, for comparing with what the node has now.
    public static func devices(in slices: [JSONValue]) -> [JSONValue] {
        slices.flatMap { $0.objectValue?["spec"]?.objectValue?["devices"]?.arrayValue ?? [] }
            .sorted { ($0.objectValue?["name"]?.stringValue ?? "") < ($1.objectValue?["name"]?.stringValue ?? "") }
    }
}
