/// The Multus NetworkAttachmentDefinition generated for each target namespace.
public typealias NetworkAttachmentDefinition = Resource<NetworkAttachmentDefinitionSpec>

/// `NetworkAttachmentDefinition.spec`.
public struct NetworkAttachmentDefinitionSpec: ResourceSpec {
    public static let kind = "NetworkAttachmentDefinition"
    public static let plural = "network-attachment-definitions"
    public static let apiVersion = "k8s.cni.cncf.io/v1"
    public static let acceptedAPIVersions = ["k8s.cni.cncf.io/v1"]
    public static let isNamespaced = true

    /// Label on every NAD MultiNIC generates.
    public static let generatedLabel = "multi-nic-cni-generated"
    /// Annotation naming the device-plugin resource(s) a pod must request.
    public static let resourceNameAnnotation = "k8s.v1.cni.cncf.io/resourceName"

    /// The CNI network config as JSON text.
    public var config: String

    public init(config: String) { self.config = config }
}
