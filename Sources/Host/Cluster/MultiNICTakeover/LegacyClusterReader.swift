import Foundation
import MultiNICCore
import MultiNICKube

/// Why the original's state could not be read.
public enum TakeoverError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An object of the original does not decode; names the object and the field.
    case invalidObject(String)
    /// The API refused or failed a call.
    case api(String)
    /// A step cannot go ahead; says why.
    case refused(String)

    public var description: String {
        switch self {
        case .invalidObject(let text): return "invalid object: \(text)"
        case .api(let text): return "Kubernetes API: \(text)"
        case .refused(let text): return text
        }
    }
}

extension LegacyCluster {
    /// The original's state from objects as `kubectl get … -o json|yaml` prints them (List items or documents).
    /// Only `multinic.fms.io/v1` objects count as the original's; NADs, Nodes, the controller Deployment and the
    /// daemon DaemonSet are recognised by kind and name.
    public init(objects: [JSONValue]) throws(TakeoverError) {
        self.init()
        var nodes: Set<String> = []
        for object in objects {
            guard let root = object.objectValue, let kind = root["kind"]?.stringValue else { continue }
            let apiVersion = root["apiVersion"]?.stringValue ?? ""
            let name = root["metadata"]?.objectValue?["name"]?.stringValue ?? "(no name)"
            let legacy = apiVersion == MultiNICAPI.legacyVersion
            switch kind {
            case MultiNicNetworkSpec.kind where legacy: networks.append(try Self.decode(object, kind: kind, name: name))
            case CIDRSpec.kind where legacy: cidrs.append(try Self.decode(object, kind: kind, name: name))
            case IPPoolSpec.kind where legacy: pools.append(try Self.decode(object, kind: kind, name: name))
            case HostInterfaceSpec.kind where legacy: hosts.append(try Self.decode(object, kind: kind, name: name))
            case NetworkAttachmentDefinitionSpec.kind:
                let nad: NetworkAttachmentDefinition = try Self.decode(object, kind: kind, name: name)
                if Self.isOriginal(nad) { nads.append(nad) }
            case NodeSpec.kind: nodes.insert(name)
            case "Deployment" where name == LegacyWorkload.controllerName: controller = LegacyWorkload.from(object) ?? controller
            case "DaemonSet" where name == LegacyWorkload.daemonName: daemon = LegacyWorkload.from(object) ?? daemon
            case ConfigSpec.kind where apiVersion == MultiNICAPI.version && name == ConfigSpec.defaultName:
                let config: Config = try Self.decode(object, kind: kind, name: name)
                multinicDaemonPort = config.spec.daemon.port
            default: continue
            }
        }
        if !nodes.isEmpty { self.nodes = nodes }
    }

    static func decode<S: ResourceSpec>(_ object: JSONValue, kind: String, name: String) throws(TakeoverError) -> Resource<S> {
        do {
            return try JSONDecoder().decode(Resource<S>.self, from: Data(object.description.utf8))
        } catch let error as DecodingError {
            throw .invalidObject("\(kind) \(name): \(DecodingErrorText.issue(error))")
        } catch {
            throw .invalidObject("\(kind) \(name): \(error)")
        }
    }
}

/// Reads the original's state from a cluster.
public enum LegacyClusterReader {
    /// Lists the original's kinds (`multinic.fms.io/v1`), NADs, Nodes, and finds the controller Deployment and the
    /// daemon DaemonSet by name in any namespace.
    public static func read(_ client: KubeClient) async throws(TakeoverError) -> LegacyCluster {
        do {
            let legacy = MultiNICAPI.legacyVersion
            var cluster = LegacyCluster()
            cluster.networks = try await client.list(MultiNicNetworkSpec.self, namespace: nil, apiVersion: legacy).items
            cluster.cidrs = try await client.list(CIDRSpec.self, namespace: nil, apiVersion: legacy).items
            cluster.pools = try await client.list(IPPoolSpec.self, namespace: nil, apiVersion: legacy).items
            cluster.hosts = try await client.list(HostInterfaceSpec.self, namespace: nil, apiVersion: legacy).items
            cluster.nads = try await client.list(NetworkAttachmentDefinitionSpec.self, namespace: nil).items.filter(LegacyCluster.isOriginal)
            cluster.nodes = Set(try await client.list(NodeSpec.self, namespace: nil).items.map(\.metadata.name))
            cluster.controller = try await workload(client, "apis/apps/v1/deployments", LegacyWorkload.controllerName)
            cluster.daemon = try await workload(client, "apis/apps/v1/daemonsets", LegacyWorkload.daemonName)
            do {
                cluster.multinicDaemonPort = try await client.get(ConfigSpec.self, name: ConfigSpec.defaultName, namespace: nil).spec.daemon.port
            } catch {
                // MultiNIC not installed yet: it will come with the shipped Config.
                guard error.code == 404 else { throw error }
            }
            return cluster
        } catch let error as TakeoverError {
            throw error
        } catch {
            throw .api("\(error)")
        }
    }

    static func workload(_ client: KubeClient, _ collection: String, _ name: String) async throws -> LegacyWorkload? {
        let body = try await client.call("GET", "/\(collection)?fieldSelector=" + KubePaths.escape("metadata.name=\(name)"))
        let list = try JSONValue.parse(String(decoding: body, as: UTF8.self))
        let kind = collection.hasSuffix("deployments") ? "Deployment" : "DaemonSet"
        return (list.objectValue?["items"]?.arrayValue ?? []).lazy.compactMap { item -> LegacyWorkload? in
            guard var fields = item.objectValue else { return nil }
            fields["kind"] = .string(kind)
            return LegacyWorkload.from(.object(fields))
        }.first
    }
}
