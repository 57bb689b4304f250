#if canImport(GRPCCore)
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MultiNICCore
import MultiNICDaemon
import MultiNICDRA
import MultiNICIPAM
import MultiNICKube
import MultiNICKubeFake
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// The kubelet plugin through its real unix sockets, the test playing the kubelet (registration, then prepare and
/// unprepare) and the scheduler (the claims' allocations, written to the in-test API server, which checks them
/// against the 1.34 schema). Errors are per claim; prepare is idempotent per claim UID and survives a daemon restart.
@Suite struct DRAKubeletPluginTests {
    static let driver = DRANames.defaultDriver

    /// A ResourceClaim in `default` allocated `devices` of `driver` on worker-1, its opaque config naming `network`.
    static func makeClaim(_ client: KubeClient, _ name: String, devices: [String], driver: String = Self.driver,
                          network: String? = "net", reservedFor pod: (name: String, uid: String)? = nil,
                          otherStatus: [JSONValue] = []) async throws -> String {
        var config: [JSONValue] = []
        if let network {
            config = [.object(["requests": .array([.string("nics")]),
                               "opaque": .object(["driver": .string(driver), "parameters": .object(["network": .string(network)])])])]
        }
        let claim: JSONValue = .object([
            "apiVersion": .string("resource.k8s.io/v1"), "kind": .string("ResourceClaim"),
            "metadata": .object(["name": .string(name), "namespace": .string("default")]),
            "spec": .object(["devices": .object([
                "requests": .array([.object(["name": .string("nics"), "exactly": .object([
                    "deviceClassName": .string("multinic-nic"), "count": .integer(Int64(devices.count))])])]),
                "config": .array(config)])]),
        ])
        var created = try JSONValue.parse(String(decoding: try await client.call(
            "POST", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims", body: Array(claim.description.utf8)), as: UTF8.self)).objectValue ?? [:]
        let results = devices.map { JSONValue.object(["request": .string("nics"), "driver": .string(driver), "pool": .string("worker-1"),
                                                      "device": .string($0)]) }
        var status: [String: JSONValue] = ["allocation": .object(["devices": .object([
            "results": .array(results),
            "config": .array(config.map { entry in
                var fields = entry.objectValue ?? [:]
                fields["source"] = .string("FromClaim")
                return .object(fields)
            })])])]
        if let pod {
            status["reservedFor"] = .array([.object(["resource": .string("pods"), "name": .string(pod.name), "uid": .string(pod.uid)])])
        }
        if !otherStatus.isEmpty { status["devices"] = .array(otherStatus) }
        created["status"] = .object(status)
        _ = try await client.call("PUT", "/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/\(name)/status",
                                  body: Array(JSONValue.object(created).description.utf8))
        return created["metadata"]?.objectValue?["uid"]?.stringValue ?? ""
    }

    static func services(_ directory: String, claims: (any ResourceClaimSource)? = nil) throws -> DaemonServices {
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth"),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!), AddressInfo(linkIndex: 3, address: IPNetwork("10.0.2.11/24")!)])
        return try DaemonServices(configuration: DaemonConfiguration(
            nodeName: "worker-1", stateDirectory: directory + "/state", sysfsRoot: directory + "/nosys", rtTablesPath: directory + "/rt_tables",
            virtualKinds: ["veth"], quarantineSeconds: 0), netlink: netlink, registry: BuiltPlugins.registry(), resourceClaimSource: claims)
    }

    static let pools = [
        IPPool(metadata: ObjectMeta(name: "net-192.168.0.0-26"), spec: IPPoolSpec(
            podCIDR: "192.168.0.0/26", vlanCIDR: "192.168.0.0/18", netAttachDef: "net", hostName: "worker-1", interfaceName: "eth1")),
        IPPool(metadata: ObjectMeta(name: "net-192.168.64.0-26"), spec: IPPoolSpec(
            podCIDR: "192.168.64.0/26", vlanCIDR: "192.168.64.0/18", netAttachDef: "net", hostName: "worker-1", interfaceName: "eth2")),
        // A pool with one address (a /30 less the network and broadcast, less one excluded).
        IPPool(metadata: ObjectMeta(name: "tiny-10.9.0.0-30"), spec: IPPoolSpec(
            podCIDR: "10.9.0.0/30", vlanCIDR: "10.9.0.0/24", netAttachDef: "tiny", hostName: "worker-1", interfaceName: "eth1",
            excludes: ["10.9.0.2/32"])),
    ]

    /// `body` with the kubelet's two clients once the plugin registered.
    static func withPlugin(_ handler: any DRAClaimHandler, directory: String,
                           _ body: (K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client<HTTP2ClientTransport.Posix>, DRAKubeletPlugin) async throws -> Void)
        async throws
    {
        let plugin = DRAKubeletPlugin(driver: Self.driver, paths: .init(driver: Self.driver, registryDirectory: directory + "/registry",
                                                                        pluginsDirectory: directory + "/plugins"), handler: handler)
        try await plugin.start()
        do {
            try await kubelet(plugin, directory: directory, body)
        } catch {
            await plugin.stop()
            throw error
        }
        await plugin.stop()
    }

    /// The kubelet's side: registration, then the DRA client on the endpoint it names.
    static func kubelet(_ plugin: DRAKubeletPlugin, directory: String,
                        _ body: (K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client<HTTP2ClientTransport.Posix>, DRAKubeletPlugin) async throws -> Void)
        async throws
    {
        // The kubelet's plugin watcher: GetInfo on the registration socket, then the verdict.
        let registration = GRPCClient(transport: try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: directory + "/registry/\(Self.driver)-reg.sock"), transportSecurity: .plaintext))
        let registering = Task { try? await registration.runConnections() }
        defer { registration.beginGracefulShutdown(); registering.cancel() }
        let info = try await Pluginregistration_Registration.Client(wrapping: registration).getInfo(Pluginregistration_InfoRequest())
        #expect(info.type == "DRAPlugin" && info.name == Self.driver && info.supportedVersions == ["v1.DRAPlugin"])
        #expect(info.endpoint == directory + "/plugins/\(Self.driver)/dra.sock")
        var verdict = Pluginregistration_RegistrationStatus()
        verdict.pluginRegistered = true
        _ = try await Pluginregistration_Registration.Client(wrapping: registration).notifyRegistrationStatus(verdict)
        #expect(plugin.registration?.registered == true)
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: info.endpoint), transportSecurity: .plaintext)
        let client = GRPCClient(transport: transport)
        let running = Task { try? await client.runConnections() }
        defer { client.beginGracefulShutdown(); running.cancel() }
        try await body(K8s_Io_Kubelet_Pkg_Apis_Dra_V1_DRAPlugin.Client(wrapping: client), plugin)
    }

    static func claims(_ list: [(String, String)]) -> [K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim] {
        list.map { name, uid in
            var claim = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_Claim()
            claim.namespace = "default"
            claim.name = name
            claim.uid = uid
            return claim
        }
    }

    /// multi-nicd itself with `--dra-driver`: the plugin's sockets where the kubelet looks, and the node's slices.
    @Test func theDaemonServesThePluginAndPublishesItsSlices() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-drad-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: "ops")
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let daemon = try RunningDaemon(directory: directory + "/daemon", pluginsDirectory: plugins, arguments: [
            "--node-name", "worker-9", "--kubeconfig", directory + "/kubeconfig", "--dra-driver", Self.driver, "--dra-publish-seconds", "0.2",
            "--kubelet-registry-dir", directory + "/registry", "--kubelet-plugins-dir", directory + "/plugins"])
        defer { daemon.kill() }
        let registration = GRPCClient(transport: try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: directory + "/registry/\(Self.driver)-reg.sock"), transportSecurity: .plaintext))
        let registering = Task { try? await registration.runConnections() }
        defer { registration.beginGracefulShutdown(); registering.cancel() }
        let info = try await Pluginregistration_Registration.Client(wrapping: registration).getInfo(Pluginregistration_InfoRequest())
        #expect(info.endpoint == directory + "/plugins/\(Self.driver)/dra.sock" && FileManager.default.fileExists(atPath: info.endpoint))
        var slices: [JSONValue] = []
        for _ in 0..<100 where slices.isEmpty {
            slices = server.objects("apis/resource.k8s.io/v1/resourceslices")
            if slices.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(slices.first?.objectValue?["spec"]?.objectValue?["nodeName"] == .string("worker-9"), "\(slices)")
    }

    /// The CNI ADD of the pod a claim is reserved for: exactly the claimed NIC (eth2, where the policy would take eth1
    /// first) with the prepared address, no other allocation; the claim's status then names the pod interface
    /// (networkData, Ready) next to another driver's entry; DEL leaves the address to the claim, unprepare frees it.
    @Test func aPodWithAPreparedClaimGetsExactlyTheClaimedNICs() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-draa-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let gpu: JSONValue = .object(["driver": .string("gpu.example.com"), "pool": .string("worker-1"), "device": .string("gpu-0")])
        let uid = try await Self.makeClaim(client, "one-nic", devices: ["eth2"], reservedFor: ("p1", "pod-uid-1"), otherStatus: [gpu])
        let source = KubeResourceClaimSource(client: client)
        let services = try Self.services(directory, claims: source)
        try await services.setPools(Self.pools)
        let prepared = try await services.prepareClaim(namespace: "default", name: "one-nic", uid: uid, driver: Self.driver)
        let address = try #require(services.preparedLeases(uid: uid).first?.podAddress)

        let query = NICQuery(network: "net", pod: PodRef(namespace: "default", name: "p1", uid: "pod-uid-1"),
                             masterNets: ["10.0.1.0/24", "10.0.2.0/24"], request: PodRequest(nics: 2))
        let plugin: [String: JSONValue] = ["cniVersion": .string("1.0.0"), "type": .string("macvlan"), "mode": .string("bridge")]
        let nics = try await services.attach(AttachmentRequest(query: query, containerID: "c1", ifName: "net1", cniVersion: "1.0.0", plugin: plugin))
        #expect(prepared.map(\.device) == ["eth2"])
        #expect(nics.map { "\($0.ifName) \($0.master) \($0.address?.description ?? "-")" } == ["net1-0 eth2 \(address)"])
        #expect(services.ipam.current.leases.count == 1, "nothing allocated beyond the claim's address")
        let status = server.objects("apis/resource.k8s.io/v1/resourceclaims").first?.objectValue?["status"]?.objectValue
        let devices = status?["devices"]?.arrayValue ?? []
        #expect(devices.first == gpu && devices.count == 2, "another driver's entry is kept: \(devices)")
        let ours = devices.last?.objectValue
        #expect(ours?["device"] == .string("eth2") && ours?["networkData"]?.objectValue?["interfaceName"] == .string("net1-0"))
        #expect(ours?["networkData"]?.objectValue?["ips"] == .array([.string(address.description)]))
        #expect(ours?["conditions"]?.arrayValue?.first?.objectValue?["type"] == .string("Ready"))

        // Another pod of the node, without a claim, goes through the policy as before.
        let other = NICQuery(network: "net", pod: PodRef(namespace: "default", name: "p2", uid: "pod-uid-2"),
                             masterNets: ["10.0.1.0/24", "10.0.2.0/24"], request: PodRequest(nics: 2))
        #expect(try await services.attach(AttachmentRequest(query: other, containerID: "c2", ifName: "net1", cniVersion: "1.0.0",
                                                            plugin: plugin)).count == 2)
        _ = try await services.detach(DetachmentRequest(network: "net", containerID: "c1", attachment: "net1", cniVersion: "1.0.0", plugin: plugin))
        #expect(services.preparedLeases(uid: uid).count == 1, "the claim keeps its address until unprepare")
        try await services.unprepareClaim(uid: uid)
        #expect(services.preparedLeases(uid: uid).isEmpty)
    }

    @Test func prepareGivesEachClaimedNICAnAddressWithErrorsPerClaim() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-drap-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = try await Self.makeClaim(client, "two-nics", devices: ["eth1", "eth2"])
        let foreign = try await Self.makeClaim(client, "a-gpu", devices: ["gpu-0"], driver: "gpu.example.com")
        // Two claims on the one address of network "tiny": the second finds the pool full.
        let tinyA = try await Self.makeClaim(client, "tiny-a", devices: ["eth1"], network: "tiny")
        let full = try await Self.makeClaim(client, "tiny-b", devices: ["eth1"], network: "tiny")
        let unconfigured = try await Self.makeClaim(client, "no-network", devices: ["eth2"], network: nil)
        let source = KubeResourceClaimSource(client: client)
        var services = try Self.services(directory, claims: source)
        try await services.setPools(Self.pools)

        var first: [String] = []
        try await Self.withPlugin(DaemonDRAHandler(services: services, driver: Self.driver), directory: directory) { dra, _ in
            var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest()
            request.claims = Self.claims([("two-nics", good), ("a-gpu", foreign), ("tiny-a", tinyA), ("tiny-b", full),
                                          ("no-network", unconfigured), ("missing", "uid-missing")])
            let response = try await dra.nodePrepareResources(request)
            #expect(response.claims.count == 6, "every claim gets an answer")
            let prepared = try #require(response.claims[good])
            #expect(prepared.error.isEmpty, "\(prepared.error)")
            #expect(prepared.devices.map { "\($0.requestNames) \($0.poolName) \($0.deviceName)" } == ["[\"nics\"] worker-1 eth1", "[\"nics\"] worker-1 eth2"])
            #expect(response.claims[foreign]?.error.contains("allocates no device of multinic.cogadvisor.io on worker-1") == true)
            #expect(response.claims[tinyA]?.error.isEmpty == true && services.preparedLeases(uid: tinyA).count == 1)
            #expect(response.claims[full]?.error.contains("tiny-10.9.0.0-30") == true, "\(response.claims[full]?.error ?? "")")
            #expect(response.claims[unconfigured]?.error.contains("no opaque config") == true)
            #expect(response.claims["uid-missing"]?.error.contains("ResourceClaim default/missing does not exist") == true)
            first = services.preparedLeases(uid: good).map(\.address.description).sorted()
            #expect(first.count == 2 && services.preparedLeases(uid: full).isEmpty, "the failed claim holds nothing")

            // The kubelet retries: the same addresses, nothing more allocated.
            let again = try await dra.nodePrepareResources(request)
            #expect(again.claims[good]?.error.isEmpty == true && services.ipam.current.leases.count == 3)
        }

        // The daemon restarts: the prepared claim is still prepared, with the same addresses.
        services = try Self.services(directory, claims: source)
        #expect(services.preparedLeases(uid: good).map(\.address.description).sorted() == first)
        try await Self.withPlugin(DaemonDRAHandler(services: services, driver: Self.driver), directory: directory) { dra, _ in
            var request = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodePrepareResourcesRequest()
            request.claims = Self.claims([("two-nics", good)])
            _ = try await dra.nodePrepareResources(request)
            #expect(services.preparedLeases(uid: good).map(\.address.description).sorted() == first)
            // Unprepare releases; a second unprepare finds nothing and succeeds.
            var unprepare = K8s_Io_Kubelet_Pkg_Apis_Dra_V1_NodeUnprepareResourcesRequest()
            unprepare.claims = Self.claims([("two-nics", good), ("tiny-a", tinyA)])
            for _ in 0..<2 {
                let answer = try await dra.nodeUnprepareResources(unprepare)
                #expect(answer.claims[good]?.error.isEmpty == true && answer.claims[tinyA]?.error.isEmpty == true)
                #expect(services.preparedLeases(uid: good).isEmpty && services.ipam.current.leases.isEmpty)
            }
        }
    }
}
#endif
