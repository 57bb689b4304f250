import Foundation
import MultiNICController
import MultiNICDaemon
import MultiNICDRA
import MultiNICCore
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// RBAC as the API server applies it: a request needs (group, resource[/subresource], verb) in its namespace, and a
/// rule with resourceNames allows only those names.
extension RBACCheck {
    struct Request: Hashable, CustomStringConvertible {
        var permission: Permission
        var namespace: String?
        var name: String?
        var description: String { "\(permission.verb) \(permission.group)/\(permission.resource)" + (namespace.map { " in \($0)" } ?? "") + (name.map { " \($0)" } ?? "") }
    }

    /// One (group, resource, verb) of one rule of a ClusterRole (namespace nil) or a Role.
    struct Grant: Hashable, CustomStringConvertible {
        var permission: Permission
        var namespace: String?
        var names: Set<String>
        var description: String { "\(permission.verb) \(permission.group)/\(permission.resource)" + (namespace.map { " in \($0)" } ?? " (cluster)") + (names.isEmpty ? "" : " \(names.sorted())") }

        func allows(_ request: Request) -> Bool {
            permission == request.permission && (namespace == nil || namespace == request.namespace)
                && (names.isEmpty || request.name.map(names.contains) == true)
        }
    }

    static func request(_ line: String) -> Request? {
        guard let permission = permission(line) else { return nil }
        let path = line.split(separator: " ", maxSplits: 1).last.map { String($0.split(separator: "?").first ?? "") } ?? ""
        var segments = path.split(separator: "/").map(String.init)
        segments.removeFirst(segments.first == "api" ? 2 : 3)
        var namespace: String?
        if segments.first == "namespaces" && segments.count >= 3 {
            namespace = segments[1]
            segments.removeFirst(2)
        } else if segments.first == "namespaces" && segments.count == 2 {
            return Request(permission: permission, namespace: nil, name: segments[1])
        }
        return Request(permission: permission, namespace: namespace, name: segments.count > 1 ? segments[1] : nil)
    }

    static func grants(_ path: String) throws -> [Grant] {
        var result: [Grant] = []
        for document in try DeployManifestTests.documents(path) {
            let object = document.objectValue ?? [:]
            guard let kind = object["kind"]?.stringValue, kind == "ClusterRole" || kind == "Role" else { continue }
            let namespace = kind == "Role" ? object["metadata"]?.objectValue?["namespace"]?.stringValue : nil
            for rule in object["rules"]?.arrayValue ?? [] {
                let fields = rule.objectValue ?? [:]
                let names = Set(fields["resourceNames"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for group in fields["apiGroups"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                    for resource in fields["resources"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                        for verb in fields["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                            result.append(Grant(permission: Permission(group: group, resource: resource, verb: verb), namespace: namespace, names: names))
                        }
                    }
                }
            }
        }
        return result
    }

    /// Requests no grant allows, and grants no request used.
    static func compare(_ lines: [String], role path: String) throws -> (missing: [String], unused: [String]) {
        // A server-side apply (a PATCH with fieldManager) of an object that does not exist yet creates it: the API
        // server checks `create` too.
        let applies = lines.filter { $0.hasPrefix("PATCH ") && $0.contains("fieldManager=") }.map { "POST " + $0.dropFirst(6) }
        let requests = Set((lines + applies).compactMap(request))
        let grants = try grants(path)
        let missing = requests.filter { request in !grants.contains { $0.allows(request) } }.map(\.description).sorted()
        let unused = grants.filter { grant in !requests.contains { grant.allows($0) } }.map(\.description).sorted()
        return (missing, unused)
    }
}

/// The operator and the daemon run against the in-test API server; every call each made (told apart by User-Agent)
/// is compared with deploy/rbac: a call no rule allows fails the test, and so does a rule nothing used.
@Suite(.ownThread) struct RBACTests {
    @Test func theOperatorsRolesAllowWhatItCallsAndNothingElse() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let namespace = "multi-nic-cni-operator"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-rbac-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: namespace)
        // A cluster with one node, its daemon's pod, a workload pod, the Config, and two networks (macvlan, sriov).
        _ = try await client.call("POST", "/api/v1/namespaces/\(namespace)/serviceaccounts", body: Array(
            #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"multi-nic-cni-operator"}}"#.utf8))
        _ = try await client.create(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec(daemon: DaemonSpec(image: "example/multi-nicd:1"))))
        _ = try await client.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        _ = try await client.create(ClusterNode(metadata: ObjectMeta(name: "n1"), spec: NodeSpec()))
        for (name, type) in [("net", "macvlan"), ("net-sriov", "sriov")] {
            _ = try await client.create(MultiNicNetwork(metadata: ObjectMeta(name: name), spec: MultiNicNetworkSpec(
                subnet: name == "net" ? "192.168.0.0/16" : "10.20.0.0/16", ipam: #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2}"#,
                plugin: PluginSpec(cniVersion: "1.0.0", type: type))))
        }
        // A network "net" of the original project too, whose controller was scaled to 0 (handed over): MultiNIC
        // looks for both before it owns the network.
        _ = try await client.call("POST", "/apis/multinic.fms.io/v1/multinicnetworks", body: Array(
            #"{"apiVersion":"multinic.fms.io/v1","kind":"MultiNicNetwork","metadata":{"name":"net"},"spec":{"subnet":"192.168.0.0/16","ipam":"{}","plugin":{"cniVersion":"0.3.0","type":"ipvlan"}}}"#.utf8))
        _ = try await client.call("POST", "/apis/apps/v1/namespaces/multi-nic-cni-operator-system/deployments", body: Array(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"multi-nic-cni-operator-controller-manager"},"spec":{"replicas":0,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"m","image":"x:1"}]}}}}"#.utf8))
        for (pod, podNamespace, labels) in [("multi-nicd-x1", namespace, #"{"app":"multi-nicd"}"#), ("web", "default", "{}")] {
            let body = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"\#(pod)","labels":\#(labels)},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox:1.36"}]}}"#
            var created = try JSONValue.parse(String(decoding: try await client.call("POST", "/api/v1/namespaces/\(podNamespace)/pods",
                                                                                      body: Array(body.utf8)), as: UTF8.self)).objectValue ?? [:]
            created["status"] = .object(["phase": .string("Running"), "podIP": .string("127.0.0.1")])
            _ = try await client.call("PUT", "/api/v1/namespaces/\(podNamespace)/pods/\(pod)/status", body: Array(JSONValue.object(created).description.utf8))
        }
        // A serving Secret left damaged (by hand, or by an older release): the operator replaces it at start.
        _ = try await client.call("POST", "/api/v1/namespaces/\(namespace)/secrets", body: Array(
            #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"multi-nicd-tls"},"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}}"#.utf8))
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let process = Process()
        process.executableURL = try BuiltPlugins.executable("multi-nic-operator")
        let health = Int.random(in: 30000...32000)
        let daemonPort = Int.random(in: 20000...29999)
        process.arguments = ["--kubeconfig", directory + "/kubeconfig", "--leader-elect", "--plugins-dir", plugins, "--leak-sweep-period", "1", "--host-period", "1",
                             "--daemon-port", String(daemonPort),
                             "--health-port", String(health), "--metrics-port", String(health + 1)]
        process.standardOutput = FileHandle.nullDevice
        FileManager.default.createFile(atPath: directory + "/operator.log", contents: nil)
        process.standardError = FileHandle(forWritingAtPath: directory + "/operator.log")
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        // The daemon of n1 (played by the test) serves TLS with the pair the operator put in its Secret.
        // Waits are generous (a minute and more): the operator starts beside every other suite on 2 cores; only a failure waits that long.
        var serving: [String: String] = [:]
        for _ in 0..<1200 where (serving["tls.key"] ?? "").isEmpty {
            let secret = server.objects("api/v1/secrets").first { $0.objectValue?["metadata"]?.objectValue?["name"] == .string("multi-nicd-tls") }
            serving = (secret?.objectValue?["data"]?.objectValue ?? [:]).compactMapValues {
                $0.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            if (serving["tls.key"] ?? "").isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        let daemon = try StandInDaemon(port: daemonPort, certificate: try #require(serving["tls.crt"]), key: try #require(serving["tls.key"]))
        defer { daemon.stop() }
        func waitFor(_ what: String, _ done: () async -> Bool) async throws {
            for _ in 0..<900 {
                if await done() { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            let log = (try? String(contentsOfFile: directory + "/operator.log", encoding: .utf8))?.suffix(1500) ?? ""
            let statuses = await ["net", "net-sriov"].asyncMap { try? await client.get(MultiNicNetworkSpec.self, name: $0, namespace: nil).status }
            Issue.record("timed out waiting for \(what): \(statuses) daemon calls \(Set(daemon.calls.all)) \(log)")
        }
        try await waitFor("both networks reconciled") {
            let statuses = await ["net", "net-sriov"].asyncMap { try? await client.get(MultiNicNetworkSpec.self, name: $0, namespace: nil).status }
            let host = try? await client.get(HostInterfaceSpec.self, name: "n1", namespace: nil)
            return statuses.allSatisfy { $0?.configStatus == .success } && daemon.calls.all.contains(DaemonAPI.releasePodsPath)
                && host?.spec.interfaces.isEmpty == false
                && server.log.lines(agent: "multi-nic-operator").contains { $0.contains("fieldSelector=spec.nodeName") }
        }
        // Changes: a NIC added on the node, a network's plugin arguments; then a network and the node removed.
        daemon.interfaces.withLock {
            $0.append(InterfaceInfo(interfaceName: "eth3", netAddress: "10.0.3.0/24", hostIP: "10.0.3.10", vendor: "15b3", product: "1017",
                                    pciAddress: "0000:3b:00.2"))
        }
        try await waitFor("the new NIC") { (try? await client.get(HostInterfaceSpec.self, name: "n1", namespace: nil))?.spec.interfaces.count == 3 }
        _ = try await client.call("PATCH", "/apis/net.cogadvisor.io/v1/multinicnetworks/net",
                                  body: Array(#"{"spec":{"plugin":{"args":{"mode":"private"}},"namespaces":["default"]}}"#.utf8), contentType: "application/merge-patch+json")
        _ = try await client.call("PATCH", "/apis/net.cogadvisor.io/v1/multinicnetworks/net-sriov",
                                  body: Array(#"{"spec":{"plugin":{"args":{"vlan":"100"}}}}"#.utf8), contentType: "application/merge-patch+json")
        _ = try await client.call("PATCH", "/apis/net.cogadvisor.io/v1/configs/multi-nicd",
                                  body: Array(#"{"spec":{"daemon":{"image":"example/multi-nicd:2"}}}"#.utf8), contentType: "application/merge-patch+json")
        try await waitFor("the changed SriovNetwork and DaemonSet") {
            let sriov = server.objects("apis/sriovnetwork.openshift.io/v1/sriovnetworks").first?.objectValue?["spec"]?.objectValue?["vlan"]
            let daemonSet = server.objects("apis/apps/v1/daemonsets").first?.description ?? ""
            return sriov == .integer(100) && daemonSet.contains("example/multi-nicd:2")
        }
        try await waitFor("the changed NAD") {
            (try? await client.get(NetworkAttachmentDefinitionSpec.self, name: "net", namespace: "default"))?.spec.config.contains("private") == true
        }
        // The pools of "net" are rewritten (updated) with the namespaces in the background: wait for them.
        try await waitFor("the pools updated with the network's namespaces") {
            let pools = (try? await client.list(IPPoolSpec.self, namespace: nil).items) ?? []
            let own = pools.filter { $0.spec.netAttachDef == "net" }
            return !own.isEmpty && own.allSatisfy { $0.metadata.annotations?[IPPoolSpec.namespacesAnnotation] == "default" }
        }
        _ = try await client.call("DELETE", "/apis/net.cogadvisor.io/v1/multinicnetworks/net-sriov")
        try await waitFor("the sriov network gone") { (try? await client.get(MultiNicNetworkSpec.self, name: "net-sriov", namespace: nil)) == nil }
        // n1's daemon published its NICs for DRA: the node's removal takes its ResourceSlices too.
        let slice = ResourceSlicePlan.slices(driver: DRANames.defaultDriver, node: "n1", nodeUID: nil, devices: [DRADevice(
            interface: InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.10"), facts: .init(), name: "eth1")],
            generation: 1).first
        var sliceFields = slice?.objectValue ?? [:]
        var sliceMetadata = sliceFields["metadata"]?.objectValue ?? [:]
        sliceMetadata["labels"] = .object(DRANames.sliceLabels.mapValues(JSONValue.string))
        sliceFields["metadata"] = .object(sliceMetadata)
        _ = try await client.call("POST", "/apis/resource.k8s.io/v1/resourceslices", body: Array(JSONValue.object(sliceFields).description.utf8))
        _ = try await client.call("DELETE", "/api/v1/nodes/n1")
        try await waitFor("n1's HostInterface gone") { (try? await client.get(HostInterfaceSpec.self, name: "n1", namespace: nil)) == nil }
        try await waitFor("n1's ResourceSlices gone") { server.objects("apis/resource.k8s.io/v1/resourceslices").isEmpty }
        var lines: [String] = []
        let wanted = ["daemonsets", "network-attachment-definitions", "serviceaccounts/multi-nic-cni-operator/token", "apps/v1/deployments",
                      "multinic.fms.io/v1/multinicnetworks",
                      "fieldSelector=spec.nodeName", "secrets", "sriovnetworks"]
        // SIGTERM: the Lease is released (an update), then the process ends.
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        lines = server.log.lines(agent: "multi-nic-operator")
        let log = (try? String(contentsOfFile: directory + "/operator.log", encoding: .utf8))?.suffix(1500) ?? ""
        for word in wanted { #expect(lines.contains { $0.contains(word) }, "the operator never called \(word): \(log)") }
        let (missing, unused) = try RBACCheck.compare(lines, role: "deploy/rbac/operator-role.yaml")
        #expect(missing.isEmpty, "the operator's roles lack: \(missing)")
        #expect(unused.isEmpty, "the operator's roles grant what it never uses: \(unused)")
    }

    @Test func theDaemonsRoleAllowsWhatItCallsAndNothingElse() async throws {
        let fixture = try await SecureFleetFixture(extraDaemonArguments: ["--ippool-mirror", "kubernetes"])
        let pool = try await fixture.client.create(SecureFleetFixture.pool)
        _ = pool
        // An authenticated call (TokenReview), an allocation mirrored into the IPPool (get, update).
        try await fixture.fleet(fixture.tokens(), trust: fixture.trust).setPools(node: "n1", [SecureFleetFixture.pool])
        let body = #"{"pod":"a","namespace":"default","host":"n1","def":"net","masters":["lo"],"containerID":"c1","ifNames":["net1"],"podUID":"u1"}"#
        #expect(UnixHTTPClient(path: fixture.daemon.socketPath)?.request("POST", DaemonAPI.allocatePath, body: body)?.status == 200)
        // IPAMClaims (`--ipam-claims`): the daemon's logic in-process (a pod attach needs NICs this process has not),
        // calling as multi-nicd: the pod's annotation, the claim, its status; the sweep asks for the claim again.
        try await IPAMClaimTests.makeClaim(fixture.client, "vm1")
        try await IPAMClaimTests.makePod(fixture.client, "launcher", uid: "ul", claim: "vm1")
        let asDaemon = KubeClient(config: KubeConfig(server: fixture.server.url, token: fixture.server.token), userAgent: "multi-nicd/multinic")
        try await IPAMClaimTests.withServices(claimSource: KubeIPAMClaimSource(client: asDaemon),
                                              resourceClaimSource: KubeResourceClaimSource(client: asDaemon)) { services in
            _ = try await IPAMClaimTests.attach(services, pod: "launcher", uid: "ul", container: "cl")
            #expect(await services.sweepClaims().isEmpty)
            // DRA mode (`--dra-driver`): the node's slices written, replaced, shrunk.
            let publisher = ResourceSlicePublisher(client: asDaemon, driver: DRANames.defaultDriver, node: "n1")
            let interface = InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.10")
            // …and a claim the kubelet asks it to prepare (read; this node has no such NIC, so it fails).
            _ = await DaemonDRAHandler(services: services, driver: DRANames.defaultDriver)
                .prepare(namespace: "default", name: "c", uid: "u")
            // …and the status of a claim whose pod it attached (networkData).
            _ = try await DRAKubeletPluginTests.makeClaim(fixture.client, "attached", devices: ["eth1"])
            try await KubeResourceClaimSource(client: asDaemon).writeDeviceStatus(
                namespace: "default", name: "attached", driver: DRANames.defaultDriver,
                devices: [.object(["driver": .string(DRANames.defaultDriver), "pool": .string("n1"), "device": .string("eth1")])])
            for (count, free) in [(130, 5), (130, 4), (2, 4)] {
                _ = try await publisher.publish(DRADevice.names(for: (0..<count).map { "vf\($0)" }).map {
                    DRADevice(interface: interface, facts: .init(freeAddresses: free), name: $0)
                })
            }
        }
        var lines: [String] = []
        for _ in 0..<100 {
            lines = fixture.server.log.lines(agent: "multi-nicd")
            if lines.contains(where: { $0.hasPrefix("PUT /apis/net.cogadvisor.io/v1/ippools/p") }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let (missing, unused) = try RBACCheck.compare(lines, role: "deploy/rbac/daemon-role.yaml")
        #expect(missing.isEmpty, "the daemon's role lacks: \(missing)")
        #expect(unused.isEmpty, "the daemon's role grants what it never uses: \(unused)")
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var result: [T] = []
        for element in self { result.append(await transform(element)) }
        return result
    }
}
