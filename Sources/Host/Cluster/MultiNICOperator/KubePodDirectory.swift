import MultiNICController
import MultiNICCore
import MultiNICKube

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

/// The leak sweep's view of pods through the API: one node's pods by field selector (`spec.nodeName`) from the API
/// server's watch cache (indexed by node, so no read of every pod from etcd — upstream #97 at one remove), and single
/// pods by name with a consistent read. The sweep confirms by name every pod the node's list lacks, so a cache that
/// lags can delay a release but never cause a wrong one.
public struct KubePodDirectory: PodDirectory {
    let client: KubeClient

    public init(client: KubeClient) {
        self.client = client
    }

    public func podUIDs(onNode node: String) async throws -> Set<String> {
        let pods = try await client.list(PodBindingSpec.self, namespace: nil, fieldSelector: "spec.nodeName=" + node,
                                          fromCache: true).items
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
