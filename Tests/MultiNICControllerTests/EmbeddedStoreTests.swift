import Foundation
import MultiNICController
import MultiNICCore
import MultiNICTestSupport
import Testing

/// The embedded store keeps the API server's conventions the reconcilers rely on.
@Suite struct EmbeddedStoreTests {
    func network(_ name: String) -> MultiNicNetwork { TestNetwork.make(name, vlanMode: nil) }

    @Test func writesCarryResourceVersionsAndStaleUpdatesConflict() async throws {
        let store = try EmbeddedStore()
        let created = try await store.create(network("a"))
        #expect(created.metadata.resourceVersion != nil && created.metadata.uid != nil && created.metadata.generation == 1)
        await #expect(throws: StoreError.alreadyExists(ObjectKey(kind: "MultiNicNetwork", name: "a"))) {
            _ = try await store.create(network("a"))
        }
        var first = created
        first.spec.subnet = "10.0.0.0/8"
        let updated = try await store.update(first)
        #expect(updated.metadata.generation == 2 && updated.metadata.resourceVersion != created.metadata.resourceVersion)
        var stale = created
        stale.spec.subnet = "172.16.0.0/12"
        do {
            _ = try await store.update(stale)
            Issue.record("a stale update must conflict")
        } catch {
            guard case .conflict = error else { Issue.record("expected a conflict, got \(error)"); return }
        }
        #expect(try await store.get(MultiNicNetworkSpec.self, name: "a")?.spec.subnet == "10.0.0.0/8")
    }

    @Test func statusAndSpecAreWrittenSeparately() async throws {
        let store = try EmbeddedStore()
        var object = try await store.create(network("a"))
        object.status = MultiNicNetworkStatus(configStatus: .success)
        object.spec.subnet = "10.0.0.0/8"
        let afterStatus = try await store.updateStatus(object)
        #expect(afterStatus.status?.configStatus == .success && afterStatus.spec.subnet == "192.168.0.0/16", "status only")
        var specChange = afterStatus
        specChange.status = nil
        specChange.spec.subnet = "10.0.0.0/8"
        let afterSpec = try await store.update(specChange)
        #expect(afterSpec.status?.configStatus == .success && afterSpec.spec.subnet == "10.0.0.0/8", "spec only")
    }

    @Test func finalizersHoldDeletionAndOwnersTakeTheirDependentsAlong() async throws {
        let store = try EmbeddedStore()
        var owner = network("a")
        owner.metadata.finalizers = ["test/hold"]
        let created = try await store.create(owner)
        var pool = IPPool(metadata: ObjectMeta(name: "a-pool"), spec: IPPoolSpec(podCIDR: "192.168.0.0/26", vlanCIDR: "192.168.0.0/18",
                                                                                 netAttachDef: "a", hostName: "h", interfaceName: "eth1"))
        pool.metadata.ownerReferences = [OwnerReference(apiVersion: created.apiVersion, kind: created.kind, name: "a",
                                                        uid: created.metadata.uid ?? "")]
        _ = try await store.create(pool)
        try await store.delete(MultiNicNetworkSpec.self, name: "a", namespace: nil)
        var marked = try #require(try await store.get(MultiNicNetworkSpec.self, name: "a"))
        #expect(marked.metadata.deletionTimestamp != nil, "held by its finalizer")
        #expect(try await store.get(IPPoolSpec.self, name: "a-pool") != nil)
        marked.metadata.finalizers = []
        _ = try await store.update(marked)
        #expect(try await store.get(MultiNicNetworkSpec.self, name: "a") == nil)
        #expect(try await store.get(IPPoolSpec.self, name: "a-pool") == nil, "owned objects are collected")
        try await store.delete(MultiNicNetworkSpec.self, name: "a", namespace: nil)
    }

    @Test func watchesSeeEveryChangeOfTheirKind() async throws {
        let store = try EmbeddedStore()
        let events = await store.watch(MultiNicNetworkSpec.self)
        var object = try await store.create(network("a"))
        object.spec.subnet = "10.0.0.0/8"
        _ = try await store.update(object)
        _ = try await store.create(ClusterNode(metadata: ObjectMeta(name: "n"), spec: NodeSpec()))
        try await store.delete(MultiNicNetworkSpec.self, name: "a", namespace: nil)
        var seen: [StoreEvent] = []
        for await event in events {
            seen.append(event)
            if seen.count == 3 { break }
        }
        let key = ObjectKey(kind: "MultiNicNetwork", name: "a")
        #expect(seen == [.added(key), .modified(key), .deleted(key)])
    }

    @Test func aFileBackedStoreComesBackAfterARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-store-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try EmbeddedStore(directory: directory)
        let created = try await first.create(network("a"))
        _ = try await first.create(NetworkAttachmentDefinition(metadata: ObjectMeta(name: "a", namespace: "team"),
                                                               spec: NetworkAttachmentDefinitionSpec(config: "{}")))
        let second = try EmbeddedStore(directory: directory)
        let reloaded = try #require(try await second.get(MultiNicNetworkSpec.self, name: "a"))
        #expect(reloaded == created)
        #expect(try await second.get(NetworkAttachmentDefinitionSpec.self, name: "a", namespace: "team")?.spec.config == "{}")
        var next = reloaded
        next.spec.subnet = "10.0.0.0/8"
        let updated = try await second.update(next)
        #expect(Int(updated.metadata.resourceVersion ?? "") ?? 0 > Int(created.metadata.resourceVersion ?? "") ?? 0,
                "versions keep growing across restarts")
    }

    @Test func theWorkQueueCoalescesAndNeverRunsAKeyTwiceAtOnce() async {
        let queue = WorkQueue<String>()
        for _ in 0..<100 { await queue.add("a") }
        await queue.add("b")
        #expect(await queue.next() == "a")
        await queue.add("a")  // while "a" runs: it runs once more afterwards, not now
        #expect(await queue.next() == "b")
        await queue.done("b")
        #expect(await queue.isIdle == false)
        await queue.done("a")
        #expect(await queue.next() == "a")
        await queue.done("a")
        let idle = await queue.isIdle
        let handedOut = await queue.handedOut
        #expect(idle && handedOut == 3)
    }
}

/// The Config CR becomes the daemon DaemonSet.
@Suite struct DaemonSetRendererTests {
    /// Native attach is on by default: SYS_ADMIN for setns and the runtime's netns directory with HostToContainer
    /// propagation (namespaces pinned after the daemon started must show up); `nativeAttach: false` gives neither and
    /// runs the daemon with `--no-native-attach`.
    @Test func nativeAttachDecidesSysAdminAndTheNetnsMount() throws {
        for native in [nil, true, false] as [Bool?] {
            var config = Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec())
            config.spec.daemon.nativeAttach = native
            let pod = try #require(DaemonSetRenderer.render(config, namespace: "ops").objectValue?["spec"]?.objectValue?["template"]?
                .objectValue?["spec"]?.objectValue)
            let container = try #require(pod["containers"]?.arrayValue?.first?.objectValue)
            let added = container["securityContext"]?.objectValue?["capabilities"]?.objectValue?["add"]
            let netns = container["volumeMounts"]?.arrayValue?.first { $0.objectValue?["name"] == .string("netns") }?.objectValue
            let volume = pod["volumes"]?.arrayValue?.first { $0.objectValue?["name"] == .string("netns") }?.objectValue
            let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(!args.contains("--ipam-claims"), "claims are off unless the Config says")
            if native == false {
                #expect(added == .array([.string("NET_ADMIN")]) && netns == nil && volume == nil && args.contains("--no-native-attach"))
            } else {
                #expect(added == .array([.string("NET_ADMIN"), .string("SYS_ADMIN")]), "\(String(describing: added))")
                #expect(netns?["mountPath"] == .string("/var/run/netns") && netns?["mountPropagation"] == .string("HostToContainer"))
                #expect(volume?["hostPath"]?.objectValue?["path"] == .string("/var/run/netns"))
                #expect(!args.contains("--no-native-attach"))
            }
        }
    }

    @Test func ipamClaimsAndDRADriverTurnOnTheDaemonsFlags() throws {
        var config = Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec())
        config.spec.daemon.ipamClaims = true
        config.spec.daemon.draDriver = DRANames.defaultDriver
        let container = try #require(DaemonSetRenderer.render(config, namespace: "ops").objectValue?["spec"]?.objectValue?["template"]?
            .objectValue?["spec"]?.objectValue?["containers"]?.arrayValue?.first?.objectValue)
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(args.contains("--ipam-claims") && args.firstIndex(of: "--dra-driver").map { args[$0 + 1] } == "multinic.cogadvisor.io", "\(args)")
        let mounts = container["volumeMounts"]?.arrayValue?.compactMap { $0.objectValue?["mountPath"]?.stringValue } ?? []
        #expect(mounts.contains("/var/lib/kubelet/plugins_registry") && mounts.contains("/var/lib/kubelet/plugins"), "\(mounts)")
    }

    @Test func theDefaultConfigRendersAHostNetworkDaemonSetWithNetAdminAndSysAdmin() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/config/config.yaml").path
        let config = try ControllerHarness.config(path)
        let daemonSet = DaemonSetRenderer.render(config, namespace: "multi-nic-cni-operator")
        let pod = try #require(daemonSet.objectValue?["spec"]?.objectValue?["template"]?.objectValue?["spec"]?.objectValue)
        #expect(pod["hostNetwork"] == .bool(true))
        let container = try #require(pod["containers"]?.arrayValue?.first?.objectValue)
        #expect(container["image"] == .string(MultiNICRelease.daemonImage))
        let security = container["securityContext"]?.objectValue
        #expect(security?["privileged"] == .bool(false)
                && security?["capabilities"]?.objectValue?["add"] == .array([.string("NET_ADMIN"), .string("SYS_ADMIN")]))
        let mounts = container["volumeMounts"]?.arrayValue?.compactMap { $0.objectValue?["mountPath"]?.stringValue } ?? []
        #expect(["/host/opt/cni/bin", "/host/etc/cni/net.d", "/run/multinic", "/var/lib/multinic",
                 "/var/lib/kubelet/device-plugins", "/etc/multi-nicd/tls", "/tmp", "/var/run/netns"].allSatisfy(mounts.contains),
                "\(mounts)")
        let volumes = pod["volumes"]?.arrayValue ?? []
        let secret = volumes.compactMap { $0.objectValue?["secret"]?.objectValue }.first
        #expect(secret?["secretName"] == .string("multi-nicd-tls") && secret?["defaultMode"] == .integer(0o400), "\(volumes)")
        #expect(pod["nodeSelector"]?.objectValue?["kubernetes.io/os"] == .string("linux") && pod["tolerations"] != nil)
        let args = container["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(args.contains("11000") && args.contains("kubernetes"), "\(args)")
        // TLS from the operator's Secret; only the operator's service account, by TokenReview (no shared token).
        #expect(!args.contains("--token-file"), "\(args)")
        let user = args.firstIndex(of: "--token-review-user").map { args[$0 + 1] }
        #expect(user == "system:serviceaccount:multi-nic-cni-operator:multi-nic-cni-operator", "\(args)")
        #expect(args.firstIndex(of: "--tls-cert").map { args[$0 + 1] } == "/etc/multi-nicd/tls/tls.crt", "\(args)")

        let store = try EmbeddedStore()
        _ = try await store.create(config)
        #expect(await DaemonSetReconciler(store: store, namespace: "multi-nic-cni-operator").reconcile("multi-nicd") == .done)
        #expect(try await store.listObjects(apiVersion: "apps/v1", kind: "DaemonSet", labels: ["app": "multi-nicd"]).count == 1)
    }

    /// The original Multi-NIC CNI's daemon is a DaemonSet `multi-nicd` too, by default in the namespace MultiNIC's
    /// deploy/ uses: the reconciler leaves a DaemonSet it did not make alone (a takeover has not adopted its
    /// allocations yet) and says why, and writes its own once that one is gone; its own it keeps updating.
    @Test func aDaemonSetMultiNICDidNotMakeIsNeverReplaced() async throws {
        let store = try EmbeddedStore()
        _ = try await store.create(Config(metadata: ObjectMeta(name: "multi-nicd"), spec: ConfigSpec()))
        let labels = JSONValue.object(["app": .string("multi-nicd")])
        let container = JSONValue.object(["name": .string("multi-nicd"),
                                          "image": .string("ghcr.io/foundation-model-stack/multi-nic-cni-daemon:v1.3.1")])
        let original: JSONValue = .object([
            "apiVersion": .string("apps/v1"), "kind": .string("DaemonSet"),
            "metadata": .object(["name": .string("multi-nicd"), "namespace": .string("multi-nic-cni-operator"), "labels": labels]),
            "spec": .object(["template": .object(["spec": .object(["containers": .array([container])])])]),
        ])
        try await store.applyObject(original)
        let reconciler = DaemonSetReconciler(store: store, namespace: "multi-nic-cni-operator")
        #expect(await reconciler.reconcile("multi-nicd") == .requeue(after: .seconds(60)))
        let kept = await store.listObjects(apiVersion: "apps/v1", kind: "DaemonSet", labels: [:], name: "multi-nicd")
        #expect(kept.count == 1 && kept.first?.objectValue?["metadata"]?.objectValue?["labels"] == labels,
                "\(kept)")
        #expect("\(kept)".contains("multi-nic-cni-daemon:v1.3.1"))
        // In another namespace the original's DaemonSet is no obstacle.
        #expect(await DaemonSetReconciler(store: store, namespace: "multinic").reconcile("multi-nicd") == .done)

        await store.deleteObject(ResourceReference(apiVersion: "apps/v1", kind: "DaemonSet", namespace: "multi-nic-cni-operator",
                                                   name: "multi-nicd"))
        #expect(await reconciler.reconcile("multi-nicd") == .done)
        #expect(await reconciler.reconcile("multi-nicd") == .done, "its own DaemonSet it re-applies")
        let ours = await store.listObjects(apiVersion: "apps/v1", kind: "DaemonSet", labels: [:], name: "multi-nicd")
            .filter { $0.objectValue?["metadata"]?.objectValue?["namespace"] == .string("multi-nic-cni-operator") }
        let first = try #require(ours.first)
        #expect(ours.count == 1 && DaemonSetReconciler.isMultiNICs(first))
    }
}
