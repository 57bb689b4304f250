#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import MultiNICIPAM
import MultiNICKube
import Synchronization

/// An IPAMClaim (`ipamclaims.k8s.cni.cncf.io`, NAD spec v1.3), as far as the daemon reads it.
public struct IPAMClaimInfo: Sendable, Hashable {
    public var namespace: String
    public var name: String
    /// `spec.network`: the network the claim's addresses belong to.
    public var network: String
    /// `spec.interface`: the pod interface it was made for.
    public var interface: String

    public init(namespace: String, name: String, network: String, interface: String) {
        self.namespace = namespace
        self.name = name
        self.network = network
        self.interface = interface
    }
}

/// Where the daemon learns a pod's claim and writes the claim's status: the Kubernetes API.
public protocol IPAMClaimSource: Sendable {
    /// The `ipam-claim-reference` of the pod's network selection element for `network` (matching `ifName` when
    /// several name it), or nil. Multus passes the key to no plugin: it is in the pod's annotation only.
    func claimReference(namespace: String, pod: String, network: String, ifName: String) async throws(DaemonError) -> String?
    /// The claim; nil when it does not exist (any more).
    func claim(namespace: String, name: String) async throws(DaemonError) -> IPAMClaimInfo?
    /// `status.ips` and `status.ownerPod` of the claim.
    func writeStatus(namespace: String, name: String, ips: [String], ownerPod: String) async throws(DaemonError)
}

/// ``IPAMClaimSource`` over the API: the pod's `k8s.v1.cni.cncf.io/networks` annotation, the claim, its status
/// subresource (merge patch).
public struct KubeIPAMClaimSource: IPAMClaimSource {
    public static let group = "k8s.cni.cncf.io/v1alpha1"
    public static let networksAnnotation = "k8s.v1.cni.cncf.io/networks"
    let client: KubeClient

    public init(client: KubeClient) {
        self.client = client
    }

    public func claimReference(namespace: String, pod: String, network: String, ifName: String) async throws(DaemonError) -> String? {
        guard let object = try await get("/api/v1/namespaces/\(KubePaths.escape(namespace))/pods/\(KubePaths.escape(pod))") else {
            return nil
        }
        let text = object.objectValue?["metadata"]?.objectValue?["annotations"]?.objectValue?[Self.networksAnnotation]?.stringValue ?? ""
        return try Self.reference(inAnnotation: text, network: network, ifName: ifName)
    }

    /// The claim reference of the selection element for `network` in a `k8s.v1.cni.cncf.io/networks` value. The
    /// short form (`net1,ns/net2@eth1`) names no claims.
    public static func reference(inAnnotation text: String, network: String, ifName: String) throws(DaemonError) -> String? {
        let trimmed = text.trimmedWhitespace
        guard trimmed.hasPrefix("[") else { return nil }
        guard let elements = (try? JSONValue.parse(trimmed))?.arrayValue else {
            throw .badRequest("the pod's \(networksAnnotation) annotation is not a JSON list")
        }
        let matching = elements.compactMap(\.objectValue).filter { element in
            let name = element["name"]?.stringValue ?? ""
            return name == network || name.hasSuffix("/" + network)
        }
        let chosen = matching.first { $0["interface"]?.stringValue == ifName } ?? (matching.count == 1 ? matching.first : nil)
        guard let reference = chosen?["ipam-claim-reference"]?.stringValue, !reference.isEmpty else { return nil }
        guard NameRules.subdomainProblem(reference) == nil else {
            throw .badRequest("ipam-claim-reference \"\(LogText.escaped(reference, limit: 64))\" is not a Kubernetes object name")
        }
        return reference
    }

    public func claim(namespace: String, name: String) async throws(DaemonError) -> IPAMClaimInfo? {
        guard let object = try await get(path(namespace, name)), let spec = object.objectValue?["spec"]?.objectValue else { return nil }
        return IPAMClaimInfo(namespace: namespace, name: name, network: spec["network"]?.stringValue ?? "",
                             interface: spec["interface"]?.stringValue ?? "")
    }

    public func writeStatus(namespace: String, name: String, ips: [String], ownerPod: String) async throws(DaemonError) {
        let status: JSONValue = .object(["status": .object(["ips": .array(ips.map(JSONValue.string)), "ownerPod": .string(ownerPod)])])
        do {
            _ = try await client.call("PATCH", path(namespace, name) + "/status", body: Array(status.description.utf8),
                                      contentType: "application/merge-patch+json")
        } catch {
            throw .unavailable("IPAMClaim \(namespace)/\(name) status: \(error)")
        }
    }

    func path(_ namespace: String, _ name: String) -> String {
        "/apis/\(Self.group)/namespaces/\(KubePaths.escape(namespace))/ipamclaims/\(KubePaths.escape(name))"
    }

    private func get(_ path: String) async throws(DaemonError) -> JSONValue? {
        do {
            return try await client.object(at: path)
        } catch {
            throw .unavailable("\(path): \(error)")
        }
    }
}

/// Which pod holds each claim now (`<state>/ipam-claims.json`, written before the pod gets the addresses): one pod
/// at a time; its DEL, or the sweep finding it gone, lets the claim go (its addresses stay).
final class ClaimBindings: Sendable {
    struct Holder: Codable, Sendable, Hashable {
        var containerID: String
        var pod: PodRef
    }

    let record: DurableRecord<[String: Holder]>

    init(directory: String) {
        record = DurableRecord(path: directory + "/ipam-claims.json", empty: [:])
    }

    var all: [String: Holder] { record.current }

    /// Binds `claim` (its key) to the container; refused while another container holds it.
    func bind(_ claim: String, to holder: Holder) throws(DaemonError) {
        let other = try record.change { holders -> Holder? in
            if let current = holders[claim], current.containerID != holder.containerID { return current }
            holders[claim] = holder
            return nil
        }
        if let other {
            let named = AllocationKey.claim(ofContainerID: claim).map { "\($0.namespace)/\($0.name)" } ?? claim
            throw .conflict("IPAMClaim \(named) is held by pod \(other.pod.namespace)/\(other.pod.name) "
                + "(container \(other.containerID.prefix(12))): one pod at a time")
        }
    }

    /// Lets go of the claims `matches` selects; returns their keys.
    @discardableResult
    func unbind(where matches: (String, Holder) -> Bool) throws(DaemonError) -> [String] {
        try record.change { holders -> [String] in
            let gone = holders.filter { matches($0.key, $0.value) }.map(\.key).sorted()
            for key in gone { holders[key] = nil }
            return gone
        }
    }
}
