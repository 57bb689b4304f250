import Foundation
import MultiNICCore
import MultiNICDaemon
import MultiNICIPAM
import MultiNICKube
import MultiNICKubeFake
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// Persistent addresses through IPAMClaim (NAD spec v1.3): the pod's `ipam-claim-reference` is read from its
/// networks annotation through the in-test API server, the claim's addresses outlive its pods (DEL, CNI GC, the pod
/// sweep), one pod holds a claim at a time, the claim's deletion releases them, and `status` is written through the
/// status subresource (checked against the IPAMClaim CRD's schema).
@Suite struct IPAMClaimTests {
    struct Setup {
        let server: FakeAPIServer
        let client: KubeClient
        let services: DaemonServices
    }

    static func withSetup(_ body: (Setup) async throws -> Void) async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        try await withServices(claimSource: KubeIPAMClaimSource(client: client)) { services in
            try await body(Setup(server: server, client: client, services: services))
        }
    }

    /// Daemon services of node worker-1 (eth1, eth2; pools of network `net` in the `vms` namespace's reach) whose
    /// claims come from `claimSource`.
    static func withServices(claimSource: any IPAMClaimSource, resourceClaimSource: (any ResourceClaimSource)? = nil,
                             _ body: (DaemonServices) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-claims-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth"),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!), AddressInfo(linkIndex: 3, address: IPNetwork("10.0.2.11/24")!)])
        let configuration = DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory, sysfsRoot: directory + "/nosys",
                                                rtTablesPath: directory + "/rt_tables", virtualKinds: ["veth"], quarantineSeconds: 0)
        let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry(),
                                          claimSource: claimSource, resourceClaimSource: resourceClaimSource)
        try await services.setPools([
            IPPool(metadata: ObjectMeta(name: "net-192.168.0.0-26"), spec: IPPoolSpec(
                podCIDR: "192.168.0.0/26", vlanCIDR: "192.168.0.0/18", netAttachDef: "net", hostName: "worker-1", interfaceName: "eth1")),
            IPPool(metadata: ObjectMeta(name: "net-192.168.64.0-26"), spec: IPPoolSpec(
                podCIDR: "192.168.64.0/26", vlanCIDR: "192.168.64.0/18", netAttachDef: "net", hostName: "worker-1", interfaceName: "eth2")),
        ])
        try await body(services)
    }

    /// A pod (`uid`) whose networks annotation names `claim` for network `net`.
    static func makePod(_ client: KubeClient, _ name: String, uid: String, claim: String?) async throws {
        let element = claim.map { #"{"name":"net","interface":"net1","ipam-claim-reference":"\#($0)"}"# } ?? #"{"name":"net"}"#
        let pod: JSONValue = .object([
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object(["name": .string(name), "namespace": .string("vms"), "uid": .string(uid),
                                 "annotations": .object(["k8s.v1.cni.cncf.io/networks": .string("[\(element)]")])]),
            "spec": .object(["containers": .array([.object(["name": .string("compute"), "image": .string("virt-launcher")])])]),
        ])
        _ = try await client.call("POST", "/api/v1/namespaces/vms/pods", body: Array(pod.description.utf8))
    }

    static func makeClaim(_ client: KubeClient, _ name: String, network: String = "net") async throws {
        let claim: JSONValue = .object([
            "apiVersion": .string("k8s.cni.cncf.io/v1alpha1"), "kind": .string("IPAMClaim"),
            "metadata": .object(["name": .string(name), "namespace": .string("vms")]),
            "spec": .object(["network": .string(network), "interface": .string("net1")]),
        ])
        _ = try await client.call("POST", "/apis/k8s.cni.cncf.io/v1alpha1/namespaces/vms/ipamclaims", body: Array(claim.description.utf8))
    }

    static func attach(_ services: DaemonServices, pod: String, uid: String, container: String) async throws -> [String] {
        let query = NICQuery(network: "net", pod: PodRef(namespace: "vms", name: pod, uid: uid), masterNets: ["10.0.1.0/24", "10.0.2.0/24"],
                             request: PodRequest(nics: 2))
        let nics = try await services.attach(AttachmentRequest(
            query: query, containerID: container, ifName: "net1", cniVersion: "1.0.0",
            plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")]))
        return nics.map { "\($0.master) \($0.address?.description ?? "-")" }
    }

    static func detach(_ services: DaemonServices, container: String) async throws {
        _ = try await services.detach(DetachmentRequest(network: "net", containerID: container, attachment: "net1", cniVersion: "1.0.0",
                                                        plugin: ["cniVersion": .string("1.0.0"), "type": .string("macvlan")]))
    }

    @Test func aVMRecreatedAsANewPodGetsTheSameAddressOnEveryNIC() async throws {
        try await Self.withSetup { setup in
            try await Self.makeClaim(setup.client, "vm1.net")
            try await Self.makePod(setup.client, "virt-launcher-vm1-a", uid: "u-a", claim: "vm1.net")
            // Another pod without a claim takes the first addresses, so the claim's are not simply the lowest.
            try await Self.makePod(setup.client, "other", uid: "u-o", claim: nil)
            let plain = try await Self.attach(setup.services, pod: "other", uid: "u-o", container: "c-o")
            let first = try await Self.attach(setup.services, pod: "virt-launcher-vm1-a", uid: "u-a", container: "c-a")
            #expect(first.count == 2 && Set(first).isDisjoint(with: plain), "\(first) \(plain)")
            let status = setup.server.objects("apis/k8s.cni.cncf.io/v1alpha1/ipamclaims").first?.objectValue?["status"]?.objectValue
            #expect(status?["ownerPod"] == .string("virt-launcher-vm1-a"))
            #expect(status?["ips"]?.arrayValue?.compactMap(\.stringValue) == first.map { String($0.split(separator: " ")[1]) })

            // The pod goes: DEL, CNI GC of every container, the sweep finding it gone — the addresses stay.
            try await Self.detach(setup.services, container: "c-a")
            _ = try await setup.services.garbageCollect(network: "net", valid: [])
            _ = try await setup.services.releasePods(["u-a"], snapshotTakenAt: setup.services.podLeases().takenAt)
            let kept = setup.services.ipam.current.leases.values.filter(\.key.isClaimKeyed).map(\.address.description).sorted()
            #expect(kept.count == 2, "\(setup.services.ipam.current.leases.keys)")
            #expect(!setup.services.podLeases().pods.contains { $0.name == "virt-launcher-vm1-a" }, "no pod holds the claim now")

            // The VM starts again in a new pod: the same NICs, the same addresses.
            try await Self.makePod(setup.client, "virt-launcher-vm1-b", uid: "u-b", claim: "vm1.net")
            let second = try await Self.attach(setup.services, pod: "virt-launcher-vm1-b", uid: "u-b", container: "c-b")
            #expect(second == first)
            let owner = setup.server.objects("apis/k8s.cni.cncf.io/v1alpha1/ipamclaims").first?.objectValue?["status"]?.objectValue?["ownerPod"]
            #expect(owner == .string("virt-launcher-vm1-b"))
        }
    }

    @Test func twoPodsOfOneClaimAtOnceTheSecondIsRefused() async throws {
        try await Self.withSetup { setup in
            try await Self.makeClaim(setup.client, "vm2")
            try await Self.makePod(setup.client, "launcher-1", uid: "u1", claim: "vm2")
            try await Self.makePod(setup.client, "launcher-2", uid: "u2", claim: "vm2")
            let first = try await Self.attach(setup.services, pod: "launcher-1", uid: "u1", container: "c1")
            let before = setup.services.ipam.current.leases.count
            await #expect { _ = try await Self.attach(setup.services, pod: "launcher-2", uid: "u2", container: "c2") } throws: { error in
                guard let error = error as? DaemonError, case .conflict(let message) = error else { return false }
                return message.contains("IPAMClaim vms/vm2 is held by pod vms/launcher-1") && message.contains("one pod at a time")
            }
            #expect(setup.services.ipam.current.leases.count == before, "the refused pod holds nothing")
            // Once the first pod's DEL ran (a live migration's source going away), the second gets the same addresses.
            try await Self.detach(setup.services, container: "c1")
            #expect(try await Self.attach(setup.services, pod: "launcher-2", uid: "u2", container: "c2") == first)
        }
    }

    @Test func aDeletedClaimIsReleasedByTheSweepAndAMissingOneFailsTheADD() async throws {
        try await Self.withSetup { setup in
            try await Self.makeClaim(setup.client, "vm3")
            try await Self.makePod(setup.client, "launcher", uid: "u3", claim: "vm3")
            _ = try await Self.attach(setup.services, pod: "launcher", uid: "u3", container: "c3")
            #expect(await setup.services.sweepClaims().isEmpty, "the claim exists")
            try await Self.detach(setup.services, container: "c3")
            _ = try await setup.client.call("DELETE", "/apis/k8s.cni.cncf.io/v1alpha1/namespaces/vms/ipamclaims/vm3")
            #expect(await setup.services.sweepClaims().count == 2)
            #expect(setup.services.ipam.current.leases.isEmpty)

            // A pod naming a claim that does not exist gets nothing (a new claim would need its owner first).
            await #expect { _ = try await Self.attach(setup.services, pod: "launcher", uid: "u3", container: "c4") } throws: { error in
                "\(error)".contains("IPAMClaim vms/vm3, which the pod's network selection element names, does not exist")
            }
            #expect(setup.services.ipam.current.leases.isEmpty)
            // A claim made for another network is refused.
            try await Self.makeClaim(setup.client, "vm3", network: "storage")
            await #expect { _ = try await Self.attach(setup.services, pod: "launcher", uid: "u3", container: "c5") } throws: { error in
                "\(error)".contains("is for network storage, not net")
            }
        }
    }

    @Test func theClaimReferenceIsReadFromTheSelectionElementOfTheNetwork() throws {
        let list = #"[{"name":"other","ipam-claim-reference":"x"},{"name":"ns/net","interface":"net2","ipam-claim-reference":"b"},"#
            + #"{"name":"net","interface":"net1","ipam-claim-reference":"a"}]"#
        #expect(try KubeIPAMClaimSource.reference(inAnnotation: list, network: "net", ifName: "net1") == "a")
        #expect(try KubeIPAMClaimSource.reference(inAnnotation: list, network: "net", ifName: "net2") == "b")
        #expect(try KubeIPAMClaimSource.reference(inAnnotation: list, network: "net", ifName: "net9") == nil, "ambiguous: none")
        #expect(try KubeIPAMClaimSource.reference(inAnnotation: "net,ns/other@eth1", network: "net", ifName: "net1") == nil)
        #expect(throws: DaemonError.self) {
            try KubeIPAMClaimSource.reference(inAnnotation: #"[{"name":"net","ipam-claim-reference":"../etc"}]"#, network: "net", ifName: "net1")
        }
        #expect(throws: DaemonError.self) { try KubeIPAMClaimSource.reference(inAnnotation: "[nope", network: "net", ifName: "net1") }
    }
}
