import Foundation
import MultiNICController
@testable import MultiNICDaemon
@testable import MultiNICKube
import MultiNICCore
import MultiNICOperator
import MultiNICHTTP
import MultiNICTestSupport
import MultiNICKubeFake
import Testing

/// The client, the Kubernetes store and the reconcilers against an in-test API server.
@Suite(.ownThread, .serialized) struct KubeServerTests {
    func network(_ name: String, labels: [String: String]? = nil) -> MultiNicNetwork { TestNetwork.make(name, labels: labels) }

    func withServer(_ body: (FakeAPIServer, KubeClient) async throws -> Void) async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        try await body(server, KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000))
    }

    @Test func crudConflictsStatusPaginationAndTokens() async throws {
        try await withServer { server, client in
            for index in 0..<5 { _ = try await client.create(network("n\(index)", labels: ["tier": index < 3 ? "a" : "b"])) }
            await #expect(throws: KubeError.self) { _ = try await client.create(network("n0")) }
            let all = try await client.list(MultiNicNetworkSpec.self, namespace: nil, limit: 2)
            #expect(all.items.map(\.name) == ["n0", "n1", "n2", "n3", "n4"])
            let pages = server.log.all.filter { $0.hasPrefix("GET") && $0.contains("limit=2") }
            #expect(pages.count == 3, "followed continue: \(pages)")
            #expect(try await client.list(MultiNicNetworkSpec.self, namespace: nil, labelSelector: "tier=b").items.count == 2)

            var first = try await client.get(MultiNicNetworkSpec.self, name: "n0", namespace: nil)
            let stale = first
            first.spec.subnet = "10.0.0.0/8"
            first.status = MultiNicNetworkStatus(configStatus: .success)
            let replaced = try await client.replace(first)
            #expect(replaced.spec.subnet == "10.0.0.0/8" && replaced.status == nil, "PUT ignores status")
            do {
                _ = try await client.replace(stale)
                Issue.record("a stale PUT must conflict")
            } catch {
                #expect((error as? KubeError)?.code == 409)
            }
            var withStatus = replaced
            withStatus.status = MultiNicNetworkStatus(configStatus: .success)
            withStatus.spec.subnet = "172.16.0.0/12"
            let statusWritten = try await client.replaceStatus(withStatus)
            #expect(statusWritten.status?.configStatus == .success && statusWritten.spec.subnet == "10.0.0.0/8", "status only")
            let patched = try await client.patch(MultiNicNetworkSpec.self, name: "n1", namespace: nil,
                                                 .object(["metadata": .object(["labels": .object(["tier": .string("c")])])]))
            #expect(patched.metadata.labels == ["tier": "c"])
            try await client.delete(MultiNicNetworkSpec.self, name: "n4", namespace: nil)
            do {
                _ = try await client.get(MultiNicNetworkSpec.self, name: "n4", namespace: nil)
                Issue.record("deleted")
            } catch {
                #expect((error as? KubeError)?.code == 404)
            }
            let intruder = KubeClient(config: KubeConfig(server: server.url, token: "wrong"))
            do {
                _ = try await intruder.list(MultiNicNetworkSpec.self, namespace: nil)
                Issue.record("a wrong token must be refused")
            } catch {
                #expect((error as? KubeError)?.code == 401)
            }
        }
    }

    /// As a real cluster: an object etcd cannot store (over 1.5 MiB) is refused with 413 and its message; one just under
    /// is stored; an invalid one is 422 naming the field.
    @Test func objectsOverEtcdsLimitAndInvalidObjectsAreRefused() async throws {
        try await withServer { _, client in
            func configMap(_ name: String, bytes: Int) -> [UInt8] {
                Array(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\#(name)"},"data":{"k":"\#(String(repeating: "x", count: bytes))"}}"#.utf8)
            }
            _ = try await client.call("POST", "/api/v1/namespaces/default/configmaps", body: configMap("small", bytes: 1_500_000))
            do {
                _ = try await client.call("POST", "/api/v1/namespaces/default/configmaps", body: configMap("big", bytes: 1_600_000))
                Issue.record("a 1.6 MB object was stored")
            } catch {
                #expect("\(error)".contains("413") && "\(error)".contains("request is too large"), "\(error)")
            }
            do {
                _ = try await client.call("POST", "/api/v1/namespaces/default/configmaps", body: Array(
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad"},"data":{"k":5}}"#.utf8))
                Issue.record("a ConfigMap with a number in data was stored")
            } catch {
                #expect("\(error)".contains("422") && "\(error)".contains("ConfigMap.data.k"), "\(error)")
            }
        }
    }

    /// Server-side apply as the API server does it: fieldManager required; created when absent; another manager's
    /// field with a different value is a conflict unless forced; a field the manager stops applying is removed.
    @Test func serverSideApplyOwnsFieldsPerManager() async throws {
        try await withServer { server, client in
            let path = "/api/v1/namespaces/default/configmaps/c"
            func apply(_ data: String, manager: String?, force: Bool = false) async throws {
                let query = (manager.map { "?fieldManager=\($0)" } ?? "") + (force ? "&force=true" : "")
                _ = try await client.call("PATCH", path + query, body: Array(
                    #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":\#(data)}"#.utf8),
                    contentType: KubeClient.PatchType.apply.rawValue)
            }
            func data() -> JSONValue? { server.objects("api/v1/configmaps").first?.objectValue?["data"] }
            await #expect(throws: KubeError.self) { try await apply(#"{"a":"1"}"#, manager: nil) }
            try await apply(#"{"a":"1","b":"1"}"#, manager: "one")
            #expect(data() == .object(["a": .string("1"), "b": .string("1")]))
            do {
                try await apply(#"{"a":"2"}"#, manager: "two")
                Issue.record("a conflicting apply succeeded")
            } catch {
                #expect("\(error)".contains("409") && "\(error)".contains("conflict with \"one\": .data.a"), "\(error)")
            }
            try await apply(#"{"a":"2"}"#, manager: "two", force: true)
            try await apply(#"{"a":"2"}"#, manager: "one", force: true)
            #expect(data() == .object(["a": .string("2")]), "b, no longer applied by one, is gone")
        }
    }

    @Test func watchesResumeAndRelistAfterGone() async throws {
        try await withServer { server, client in
            let created = try await client.create(network("a"))
            let listed = try await client.list(MultiNicNetworkSpec.self, namespace: nil)
            var seen: [String] = []
            let events = client.watch(MultiNicNetworkSpec.self, namespace: nil, resourceVersion: listed.resourceVersion, timeoutSeconds: 30)
            Task {
                try? await Task.sleep(for: .milliseconds(200))
                var changed = created
                changed.spec.subnet = "10.0.0.0/8"
                _ = try? await client.replace(changed)
                try? await client.delete(MultiNicNetworkSpec.self, name: "a", namespace: nil)
                try? await Task.sleep(for: .milliseconds(200))
                server.closeWatches()
            }
            for try await event in events {
                switch event {
                case .bookmark: seen.append("BOOKMARK")
                case .added(let object): seen.append("ADDED \(object.name)")
                case .modified(let object): seen.append("MODIFIED \(object.spec.subnet)")
                case .deleted(let object): seen.append("DELETED \(object.name)")
                case .error(let status): seen.append("ERROR \(status.code ?? 0)")
                }
            }
            #expect(seen == ["BOOKMARK", "MODIFIED 10.0.0.0/8", "DELETED a"])

            server.compact()
            var gone: [String] = []
            for try await event in client.watch(MultiNicNetworkSpec.self, namespace: nil, resourceVersion: listed.resourceVersion) {
                if case .error(let status) = event { gone.append("ERROR \(status.code ?? 0)") }
            }
            #expect(gone == ["ERROR 410"])

            // The store's watch lists again after 410 and keeps reporting.
            let store = KubernetesStore(client: client)
            let storeEvents = await store.watch(MultiNicNetworkSpec.self)
            _ = try await store.create(network("b"))
            var keys: [String] = []
            for await event in storeEvents {
                keys.append(event.key.name)
                if keys.contains("b") { break }
            }
            #expect(keys.contains("b"))
        }
    }

    @Test(arguments: [false, true])
    func theReconcilersRunUnchangedOnTheKubernetesStore(informers: Bool) async throws {
        try await withServer { server, client in
            let store = KubernetesStore(client: client, cached: informers ? KubernetesStore.controllerKinds : [])
            let fleet = SimpleFleet()
            _ = try await store.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
            for index in 0..<3 {
                _ = try await store.create(ClusterNode(metadata: ObjectMeta(name: "node-\(index)"), spec: NodeSpec()))
            }
            let setupRequests = server.log.all.count
            let controller = MultiNICController(store: store, fleet: fleet, renderer: .init(registry: try BuiltPlugins.registry()),
                                                hostPeriod: .seconds(60))
            let running = Task { await controller.run(workers: 2) }
            defer { running.cancel() }
            _ = try await store.create(network("multi-nic-sample"))
            var status: MultiNicNetworkStatus?
            for _ in 0..<600 {
                status = try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample")?.status
                // Success for all three hosts: an earlier status may be a success for the hosts known then.
                if status?.routeStatus == .success, status?.discovery.cidrProcessed == 3,
                   try await store.list(IPPoolSpec.self).count == 6 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status?.configStatus == .success && status?.routeStatus == .success, "\(String(describing: status))")
            #expect(try await store.get(NetworkAttachmentDefinitionSpec.self, name: "multi-nic-sample", namespace: "default") != nil)
            #expect(try await store.get(CIDRSpec.self, name: "multi-nic-sample")?.spec.cidr.map(\.hosts.count) == [3, 3])
            #expect(await fleet.routes.count == 3)

            try await store.delete(MultiNicNetworkSpec.self, name: "multi-nic-sample", namespace: nil)
            var gone = false
            for _ in 0..<600 where !gone {
                gone = try await store.get(MultiNicNetworkSpec.self, name: "multi-nic-sample") == nil
                if !gone { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(gone, "the finalizer ran and let go")
            var leftovers = 0
            for _ in 0..<600 {
                // Informers learn of deletions from their watch: give them a moment.
                leftovers = try await store.list(IPPoolSpec.self).count + store.list(CIDRSpec.self).count
                    + store.list(NetworkAttachmentDefinitionSpec.self).count
                if leftovers == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(leftovers == 0, "pools, CIDR and NADs removed with the network")
            #expect(server.objects("apis/net.cogadvisor.io/v1/ippools").isEmpty, "removed from the API server, not just the cache")
            if informers {
                let reads = server.log.all.dropFirst(setupRequests).filter { $0.hasPrefix("GET") && !$0.contains("watch=") }
                #expect(reads.count <= KubernetesStore.controllerKinds.count + 2,
                        "reads come from the informers (one list per kind): \(reads)")
            }
        }
    }
}

/// Which (group, resource, verb) a request needs, and what a ClusterRole grants.
enum RBACCheck {
    struct Permission: Hashable {
        var group: String
        var resource: String
        var verb: String
    }

    /// From a logged request line: `GET /apis/net.cogadvisor.io/v1/multinicnetworks?watch=1…`.
    static func permission(_ line: String) -> Permission? {
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        let pathAndQuery = parts[1].split(separator: "?", maxSplits: 1).map(String.init)
        var segments = pathAndQuery[0].split(separator: "/").map(String.init)
        guard let first = segments.first else { return nil }
        let group = first == "api" ? "" : (segments.count > 1 ? segments[1] : "")
        segments.removeFirst(first == "api" ? 2 : 3)
        if segments.first == "namespaces" && segments.count >= 3 { segments.removeFirst(2) }
        guard let resource = segments.first else { return nil }
        let named = segments.count > 1
        let subresource = segments.count > 2 ? "/" + segments[2] : ""
        let watch = pathAndQuery.count > 1 && pathAndQuery[1].contains("watch=1")
        let verb: String
        switch parts[0] {
        case "GET": verb = named ? "get" : (watch ? "watch" : "list")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = "delete"
        default: return nil
        }
        return Permission(group: group, resource: resource + subresource, verb: verb)
    }
}

/// Three in-process daemons (eth1, eth2 on 10.0.1/2.0/24).
actor SimpleFleet: DaemonFleet {
    var routes: [String: L3Request] = [:]

    func nodes() -> [String] { ["node-0", "node-1", "node-2"] }

    func interfaces(node: String) -> [InterfaceInfo] {
        let index = Int(node.suffix(1)) ?? 0
        return (1...2).map { InterfaceInfo(interfaceName: "eth\($0)", netAddress: "10.0.\($0).0/24", hostIP: "10.0.\($0).\(10 + index)") }
    }

    func setPools(node: String, _ pools: [IPPool]) {}
    func setRoutes(node: String, _ request: L3Request) -> L3Response {
        routes[node] = request
        return L3Response(success: true, msg: "")
    }
    func deleteRoutes(node: String, network: String) { routes[node] = nil }
    func podLeases(node: String) -> PodLeaseSnapshot { PodLeaseSnapshot(takenAt: 0, pods: []) }
    func releasePods(node: String, _ request: PodReleaseRequest) -> [IPAllocation] { [] }
}

/// Two replicas, one Lease.
@Suite(.ownThread) struct LeaderElectionTests {
    @Test func onlyOneReplicaLeadsAndAnotherTakesOverAfterTheLeaseExpires() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let first = LeaderElector(client: client, namespace: "ops", identity: "replica-a", leaseDurationSeconds: 10)
        let second = LeaderElector(client: client, namespace: "ops", identity: "replica-b", leaseDurationSeconds: 10)
        let start = Date()
        #expect(await first.tryAcquireOrRenew(now: start))
        #expect(!(await second.tryAcquireOrRenew(now: start.addingTimeInterval(1))), "held and fresh")
        #expect(await first.tryAcquireOrRenew(now: start.addingTimeInterval(5)), "the holder renews")
        #expect(!(await second.tryAcquireOrRenew(now: start.addingTimeInterval(14))), "renewed at +5: still valid at +14")
        #expect(await second.tryAcquireOrRenew(now: start.addingTimeInterval(16)), "expired: taken over")
        #expect(!(await first.tryAcquireOrRenew(now: start.addingTimeInterval(17))), "the old holder lost it")
        let lease = try await client.get(LeaseSpec.self, name: "multi-nic-cni-operator", namespace: "ops")
        #expect(lease.spec.holderIdentity == "replica-b" && lease.spec.leaseTransitions == 1)
        // Giving up meets a renewal that wrote in between (409): read again, still release; no renewal after that.
        server.conflictOnce("multi-nic-cni-operator")
        #expect(await second.release(), "released through a conflict")
        #expect(try await client.get(LeaseSpec.self, name: "multi-nic-cni-operator", namespace: "ops").spec.holderIdentity == nil)
        #expect(!(await second.tryAcquireOrRenew()), "a releasing replica does not take the lease back")
        #expect(await first.tryAcquireOrRenew(), "another replica takes the released lease at once")
    }
}


/// The operator executable against the in-test API server: leader Lease, Config → DaemonSet, a network reconciled.
@Suite(.ownThread) struct OperatorProcessTests {
    @Test func theOperatorLeadsAndReconciles() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-operator-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try server.writeKubeconfig(to: directory + "/kubeconfig", namespace: "ops")
        _ = try await client.create(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec(daemon: DaemonSpec(image: "example/multi-nicd:1"))))
        _ = try await client.create(ClusterNamespace(metadata: ObjectMeta(name: "default"), spec: NamespaceSpec()))
        _ = try await client.create(MultiNicNetwork(metadata: ObjectMeta(name: "net"), spec: MultiNicNetworkSpec(
            subnet: "192.168.0.0/16", ipam: #"{"type":"multi-nic-ipam","hostBlock":6,"interfaceBlock":2}"#,
            plugin: PluginSpec(cniVersion: "1.0.0", type: "macvlan"))))
        let plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        defer { try? FileManager.default.removeItem(atPath: plugins) }
        let process = Process()
        process.executableURL = try BuiltPlugins.executable("multi-nic-operator")
        let health = Int.random(in: 30000...32000)  // below the ephemeral range (32768+)
        process.arguments = ["--kubeconfig", directory + "/kubeconfig", "--leader-elect", "--plugins-dir", plugins,
                             "--health-port", String(health), "--metrics-port", String(health + 1), "--daemon-token-file", directory + "/none"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        var daemonSet: JSONValue?
        var status: MultiNicNetworkStatus?
        for _ in 0..<200 {
            try await Task.sleep(for: .milliseconds(100))
            let body = try? await client.call("GET", "/apis/apps/v1/namespaces/ops/daemonsets/multi-nicd")
            daemonSet = body.flatMap { try? JSONValue.parse(String(decoding: $0, as: UTF8.self)) }
            status = try? await client.get(MultiNicNetworkSpec.self, name: "net", namespace: nil).status
            if daemonSet != nil && status?.configStatus == .success { break }
        }
        let image = daemonSet?.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue?["containers"]?
            .arrayValue?.first?.objectValue?["image"]
        #expect(image == .string("example/multi-nicd:1"), "the Config became the DaemonSet")
        #expect(status?.configStatus == .success, "the network was reconciled: \(String(describing: status))")
        let lease = try await client.get(LeaseSpec.self, name: "multi-nic-cni-operator", namespace: "ops")
        #expect(lease.spec.holderIdentity != nil)
        #expect(try await client.get(NetworkAttachmentDefinitionSpec.self, name: "net", namespace: "default").spec.config.contains("multi-nic"))
        // Every informer synced: ready, and the metrics say so per kind.
        let ready = try CurlTransport.perform(HTTPRequest(endpoint: .url("http://127.0.0.1:\(health)"), method: "GET", path: "/readyz"))
        #expect(ready.status == 200, "\(String(decoding: ready.body, as: UTF8.self))")
        let metrics = String(decoding: try CurlTransport.perform(HTTPRequest(endpoint: .url("http://127.0.0.1:\(health + 1)"), method: "GET",
                                                                              path: "/metrics")).body, as: UTF8.self)
        #expect(metrics.contains("multinic_operator_informer_synced{kind=\"Node\"} 1")
                && metrics.contains("multinic_operator_informer_failures_total{kind=\"MultiNicNetwork\"} 0"), "\(metrics)")

        // SIGTERM: the Lease is given up before the process ends, so a successor need not wait for it to expire.
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning && process.terminationStatus == 0)
        let released = try await client.get(LeaseSpec.self, name: "multi-nic-cni-operator", namespace: "ops")
        #expect(released.spec.holderIdentity == nil && released.spec.leaseDurationSeconds == 1, "\(released.spec)")
        let successor = LeaderElector(client: client, namespace: "ops", identity: "successor")
        #expect(await successor.tryAcquireOrRenew(), "a successor takes the released lease at once")
    }
}

/// The daemon's allocations land in the IPPool resources, through conflicts.
@Suite(.ownThread) struct KubeAllocationMirrorTests {
    @Test func allocationsArePublishedAndAConflictIsRetried() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        var pool = IPPool(metadata: ObjectMeta(name: "net-192.168.0.0-26"), spec: IPPoolSpec(
            podCIDR: "192.168.0.0/26", vlanCIDR: "192.168.0.0/18", netAttachDef: "net", hostName: "n1", interfaceName: "eth1"))
        pool = try await client.create(pool)
        let entries = [Allocation(pod: "p1", namespace: "default", index: 1, address: "192.168.0.1", containerID: "c1", ifName: "net1-0")]
        server.conflictOnce("net-192.168.0.0-26")
        let mirror = KubeAllocationMirror(client: client)
        #expect(await mirror.write(pool: "net-192.168.0.0-26", entries), "written after one conflict")
        let stored = try await client.get(IPPoolSpec.self, name: "net-192.168.0.0-26", namespace: nil)
        #expect(stored.spec.allocations == entries && stored.spec.podCIDR == "192.168.0.0/26")
        let conflicts = server.log.all.filter { $0.hasPrefix("PUT") }.count
        #expect(conflicts == 2, "one refused PUT, one accepted")
        #expect(!(await mirror.write(pool: "missing", entries)), "a pool the API lacks is skipped")
        await mirror.publish(["net-192.168.0.0-26": []])
        #expect(try await client.get(IPPoolSpec.self, name: "net-192.168.0.0-26", namespace: nil).spec.allocations.isEmpty)
    }
}
