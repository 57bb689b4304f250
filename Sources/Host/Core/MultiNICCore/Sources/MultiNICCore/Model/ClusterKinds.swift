/// A Kubernetes Namespace: NADs go to every namespace a network targets (all of them when it lists none).
public typealias ClusterNamespace = Resource<NamespaceSpec>

public struct NamespaceSpec: ResourceSpec {
    public static let kind = "Namespace"
    public static let plural = "namespaces"
    public static let apiVersion = "v1"
    public static let acceptedAPIVersions = ["v1"]

    public init() {}
}

/// A Kubernetes Node: a host leaves the CIDR only when its Node object is gone (not when its daemon is briefly away).
public typealias ClusterNode = Resource<NodeSpec>

public struct NodeSpec: ResourceSpec {
    public static let kind = "Node"
    public static let plural = "nodes"
    public static let apiVersion = "v1"
    public static let acceptedAPIVersions = ["v1"]

    public init() {}
}
