import MultiNICController
import MultiNICCore

/// A Pod, reduced to what the leak sweep reads (metadata and the node it is bound to).
public struct PodBindingSpec: ResourceSpec {
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let apiVersion = "v1"
    public static let acceptedAPIVersions = ["v1"]
    public static let isNamespaced = true

    public var nodeName: String?

    public init(nodeName: String? = nil) {
        self.nodeName = nodeName
    }
}

/// The leak sweep's view of pods through the API: one node's pods by field selector (`spec.nodeName`), paginated,
/// read from the API server itself (no resourceVersion: never a lagging cache); single pods by name.
public struct KubePodDirectory: PodDirectory {
    let client: KubeClient

    public init(client: KubeClient) {
        self.client = client
    }

    public func podUIDs(onNode node: String) async throws -> Set<String> {
        let pods = try await client.list(PodBindingSpec.self, namespace: nil, fieldSelector: "spec.nodeName=" + node).items
        return Set(pods.compactMap(\.metadata.uid))
    }

    public func podUID(namespace: String, name: String) async throws -> String? {
        do {
            return try await client.get(PodBindingSpec.self, name: name, namespace: namespace).metadata.uid
        } catch .api(404, _) {
            return nil
        }
    }
}
