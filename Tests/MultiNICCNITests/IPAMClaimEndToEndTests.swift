import Foundation
import MultiNICCore
import MultiNICHTTP
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// IPAMClaim through the real path: the real `multi-nic` in a host namespace, its multi-nicd (`--ipam-claims`)
/// reading pods and claims from the in-test API server (through a relay on the namespace's loopback), native attach
/// of macvlans in pod namespaces. A VM's launcher pod is deleted and a new one started: the same address on every
/// NIC; a second launcher of the same VM at once is refused with a CNI error naming the holder; the claim's deletion
/// frees the addresses at the daemon's next sweep.
@Suite(.ownThread, .enabled(if: CNICluster.available, "needs root and iproute2 (CI runs as root)"), .serialized)
struct IPAMClaimEndToEndTests {
    static func pod(_ name: String) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object(["name": .string(name), "namespace": .string("default"), "uid": .string(name),
                                 "annotations": .object(["k8s.v1.cni.cncf.io/networks":
                                    .string(#"[{"name":"net","interface":"net1","ipam-claim-reference":"vm1.net"}]"#)])]),
            "spec": .object(["containers": .array([.object(["name": .string("compute"), "image": .string("virt-launcher")])])]),
        ])
    }

    /// `ip -br -4 addr` addresses of the pod's per-NIC interfaces, sorted.
    static func podAddresses(_ netns: String) -> [String] {
        let text = (try? TestNamespace.ip("-n", netns, "-br", "-4", "addr")) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("net1-") }.map { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            return "\(fields[0].split(separator: "@")[0]) \(fields.last ?? "")"
        }.sorted()
    }

    @Test func aVMKeepsItsAddressesAcrossLauncherPods() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeTestClient(server)
        try await client.post("/apis/k8s.cni.cncf.io/v1alpha1/namespaces/default/ipamclaims", .object([
            "apiVersion": .string("k8s.cni.cncf.io/v1alpha1"), "kind": .string("IPAMClaim"),
            "metadata": .object(["name": .string("vm1.net"), "namespace": .string("default")]),
            "spec": .object(["network": .string("net"), "interface": .string("net1")])]))
        for name in ["launcher-a", "launcher-b", "launcher-c"] { try await client.post("/api/v1/namespaces/default/pods", Self.pod(name)) }
        let kubeconfig = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-claims-\(UUID()).kubeconfig").path
        defer { try? FileManager.default.removeItem(atPath: kubeconfig) }
        try client.writeRelayedKubeconfig(to: kubeconfig)
        let serverPort = client.port

        try CNICluster.with(hosts: 1, nics: 2, daemonArguments: ["--ipam-claims", "--kubeconfig", kubeconfig, "--release-replay-seconds", "0.2"]) { cluster in
            let relay = try NamespaceRelay(namespace: cluster.hosts[0].namespace, listenPort: 6443, to: serverPort)
            defer { relay.stop() }
            try TestNamespace.withMany(2) { extra in
                let config = cluster.config("1.0.0", host: 0)
                let netnsA = cluster.pods[0], netnsB = extra[0], netnsC = extra[1]
                func run(_ command: String, _ container: String, _ netns: String, _ pod: String) throws -> (Int32, String) {
                    try cluster.run(command, host: 0, config: config, container: container, netns: "/var/run/netns/" + netns, pod: pod)
                }
                let (added, output) = try run("ADD", "ca", netnsA, "launcher-a")
                #expect(added == 0, "\(output)")
                let first = Self.podAddresses(netnsA)
                #expect(first.count == 2, "\(first)")
                let status = server.objects("apis/k8s.cni.cncf.io/v1alpha1/ipamclaims").first?.objectValue?["status"]?.objectValue
                #expect(status?["ownerPod"] == .string("launcher-a"))
                #expect(status?["ips"]?.arrayValue?.compactMap(\.stringValue).sorted() == first.map { String($0.split(separator: " ")[1]) }.sorted())

                // The launcher pod is deleted (the VM stops): DEL removes its links, the claim keeps the addresses.
                let (deleted, deleteOutput) = try run("DEL", "ca", netnsA, "launcher-a")
                #expect(deleted == 0, "\(deleteOutput)")
                #expect(Self.podAddresses(netnsA).isEmpty)
                #expect(cluster.inUse(host: 0) == 2, "kept for the claim")

                // A new launcher pod of the VM: the same address on every NIC.
                let (again, againOutput) = try run("ADD", "cb", netnsB, "launcher-b")
                #expect(again == 0, "\(againOutput)")
                #expect(Self.podAddresses(netnsB) == first)

                // A second launcher at once (a migration target before the source let go) is refused, saying who holds it.
                let (refused, refusal) = try run("ADD", "cc", netnsC, "launcher-c")
                #expect(refused != 0 && refusal.contains("IPAMClaim default/vm1.net is held by pod default/launcher-b"), "\(refusal)")
                #expect(Self.podAddresses(netnsC).isEmpty && cluster.inUse(host: 0) == 2)

                // The VM is deleted: its claim goes, and the daemon's sweep frees the addresses.
                #expect(try run("DEL", "cb", netnsB, "launcher-b").0 == 0)
                try client.delete("/apis/k8s.cni.cncf.io/v1alpha1/namespaces/default/ipamclaims/vm1.net")
                var freed = false
                for _ in 0..<100 where !freed {
                    freed = cluster.inUse(host: 0) == 0
                    if !freed { usleep(50_000) }
                }
                #expect(freed, "\(cluster.status(host: 0))")
            }
        }
    }
}

/// Calls to the in-test API server from a test (with its token), blocking.
struct KubeTestClient {
    let server: FakeAPIServer
    init(_ server: FakeAPIServer) { self.server = server }

    /// The server's port on the test's loopback.
    var port: Int { Int(server.url.split(separator: ":").last ?? "") ?? 0 }

    /// A kubeconfig for a daemon in a host namespace: the server at 127.0.0.1:6443 there, where a
    /// ``NamespaceRelay`` to ``port`` listens.
    func writeRelayedKubeconfig(to path: String) throws {
        try """
            apiVersion: v1
            kind: Config
            current-context: t
            clusters: [{name: f, cluster: {server: "http://127.0.0.1:6443"}}]
            users: [{name: d, user: {token: \(server.token ?? "")}}]
            contexts: [{name: t, context: {cluster: f, user: d}}]
            """.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A call with a JSON body; the JSON answer of a 2xx.
    func send(_ method: String, _ path: String, _ object: JSONValue) throws -> JSONValue {
        let (status, body) = try request(method, path, body: object.description)
        guard (200...299).contains(status) else { throw PluginTestFailure("\(method) \(path): \(status) \(body)") }
        return try JSONValue.parse(body)
    }

    func post(_ path: String, _ object: JSONValue) async throws {
        let (status, body) = try request("POST", path, body: object.description)
        guard status == 201 || status == 200 else { throw PluginTestFailure("POST \(path): \(status) \(body)") }
    }

    func delete(_ path: String) throws {
        let (status, body) = try request("DELETE", path, body: nil)
        guard status == 200 || status == 202 else { throw PluginTestFailure("DELETE \(path): \(status) \(body)") }
    }

    private func request(_ method: String, _ path: String, body: String?) throws -> (Int, String) {
        let answer = try CurlTransport.perform(MultiNICHTTP.HTTPRequest(
            endpoint: .url(server.url), method: method, path: path,
            headers: ["Authorization: Bearer \(server.token ?? "")", "Content-Type: application/json"], body: body.map { Array($0.utf8) }))
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }
}
