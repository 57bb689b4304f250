import Foundation
import Logging
import MultiNICCertificates
import MultiNICController
import MultiNICHTTP
import MultiNICCore
import MultiNICDaemonClient
import MultiNICOperator
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// The operator → daemon channel as deployed: the operator keeps a CA and the daemons' serving pair in Secrets,
/// a real multi-nicd serves TLS with that pair and authenticates callers by TokenReview on the API server, and the
/// operator presents a token of its own service account requested for the node's audience.
final class SecureFleetFixture {
    let server: FakeAPIServer
    let client: KubeClient
    let directory: String
    let plugins: String
    let daemon: RunningDaemon
    let trust: DaemonTrust
    let port = Int.random(in: 20000...29999)
    static let operatorUser = "system:serviceaccount:ops:multi-nic-cni-operator"

    init(extraDaemonArguments: [String] = []) async throws {
        server = try await FakeAPIServer()
        client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-secure-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for account in ["multi-nic-cni-operator", "intruder"] {
            _ = try await client.call("POST", "/api/v1/namespaces/ops/serviceaccounts", body: Array(
                #"{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"\#(account)"}}"#.utf8))
        }
        // The operator's side: Secrets made on the API server, the trust bundle in a private file.
        trust = try await DaemonTrustFile.start(client: client, namespace: "ops", logger: Logger(label: "test"), in: directory)
        // The daemon's side: the serving pair as the DaemonSet's Secret volume would hold it (0400), and a kubeconfig
        // for its TokenReviews.
        let serving = try #require(server.objects("api/v1/secrets").first { $0.objectValue?["metadata"]?.objectValue?["name"] == .string("multi-nicd-tls") })
        for key in ["tls.crt", "tls.key"] {
            let encoded = try #require(serving.objectValue?["data"]?.objectValue?[key]?.stringValue)
            try PrivateFile.store(Array(try #require(Data(base64Encoded: encoded))), at: directory + "/" + key)
        }
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: c, cluster: {server: "\(server.url)"}}]
            users: [{name: u, user: {token: \(server.token ?? "")}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            current-context: x
            """.write(toFile: directory + "/kubeconfig", atomically: true, encoding: .utf8)
        plugins = try BuiltPlugins.makeDirectory(BuiltPlugins.repositoryPlugins())
        daemon = try RunningDaemon(directory: directory + "/daemon", pluginsDirectory: plugins, arguments: [
            "--port", String(port), "--bind", "127.0.0.1", "--kubeconfig", directory + "/kubeconfig",
            "--token-review-user", Self.operatorUser, "--tls-cert", directory + "/tls.crt", "--tls-key", directory + "/tls.key"]
            + extraDaemonArguments)
        let pod: JSONValue = .object(["apiVersion": .string("v1"), "kind": .string("Pod"),
                                      "metadata": .object(["name": .string("multi-nicd-x1"), "labels": .object(["app": .string("multi-nicd")])]),
                                      "spec": .object(["nodeName": .string("n1"), "containers": .array([.object(["name": .string("c"), "image": .string("busybox:1.36")])])])])
        var created = try JSONValue.parse(String(decoding: try await client.call("POST", "/api/v1/namespaces/ops/pods",
                                                                                  body: Array(pod.description.utf8)), as: UTF8.self)).objectValue ?? [:]
        created["status"] = .object(["phase": .string("Running"), "podIP": .string("127.0.0.1")])
        _ = try await client.call("PUT", "/api/v1/namespaces/ops/pods/multi-nicd-x1/status", body: Array(JSONValue.object(created).description.utf8))
    }

    deinit {
        daemon.kill()
        server.stop()
        try? FileManager.default.removeItem(atPath: plugins)
        try? FileManager.default.removeItem(atPath: directory)
    }

    func fleet(_ credentials: any DaemonCredentials, trust: DaemonTrust?) -> KubeDaemonFleet {
        KubeDaemonFleet(client: client, namespace: "ops", port: port, credentials: credentials, trust: trust)
    }

    func tokens(_ account: String = "multi-nic-cni-operator") -> ServiceAccountTokens {
        ServiceAccountTokens(client: client, namespace: "ops", serviceAccount: account)
    }

    static let pool = IPPool(metadata: ObjectMeta(name: "p"), spec: IPPoolSpec(podCIDR: "10.60.0.0/16", vlanCIDR: "10.60.0.0/16",
                                                                               netAttachDef: "net", hostName: "n1", interfaceName: "lo"))
}

@Suite(.ownThread) struct DaemonTLSTests {
    func expectRefused(_ fleet: KubeDaemonFleet, status: Int?, _ comment: Comment) async {
        do {
            try await fleet.setPools(node: "n1", [SecureFleetFixture.pool])
            Issue.record(comment)
        } catch {
            switch (error, status) {
            case (.rejected(_, let code, _), let expected?) where code == expected: break
            case (.unreachable, nil): break
            default: Issue.record("\(comment): got \(error)")
            }
        }
    }

    @Test func theOperatorReachesTheDaemonOverTLSWithANodeAudienceToken() async throws {
        let fixture = try await SecureFleetFixture()
        let tokens = fixture.tokens()
        let fleet = fixture.fleet(tokens, trust: fixture.trust)
        try await fleet.setPools(node: "n1", [SecureFleetFixture.pool])
        _ = try await fleet.interfaces(node: "n1")
        let reviews = fixture.server.log.all.filter { $0.hasPrefix("POST /apis/authentication.k8s.io/v1/tokenreviews") }
        #expect(reviews.count == 1, "one review, then the daemon's cache: \(reviews)")
        #expect(fixture.server.issuedTokens == 1, "one token per node, reused while fresh")

        // A token the API server issued to the operator, but for node n2: worthless on n1.
        let forOtherNode = try #require(try await tokens.token(for: "n2"))
        await expectRefused(fixture.fleet(StaticDaemonToken(forOtherNode), trust: fixture.trust), status: 401,
                            "a token for another node's audience must be refused")
        // Another service account's token for the right audience: refused too.
        let intruderToken = try #require(try await fixture.tokens("intruder").token(for: "n1"))
        await expectRefused(fixture.fleet(StaticDaemonToken(intruderToken), trust: fixture.trust), status: 401,
                            "another account's token must be refused")
        // No token, a made-up one.
        await expectRefused(fixture.fleet(StaticDaemonToken(nil), trust: fixture.trust), status: 401, "no token must be refused")
        await expectRefused(fixture.fleet(StaticDaemonToken("made-up-token-0123456789"), trust: fixture.trust), status: 401,
                            "a made-up token must be refused")
    }

    @Test func theOperatorTrustsOnlyItsOwnCAAndNeverSpeaksPlainHTTP() async throws {
        let fixture = try await SecureFleetFixture()
        // Plain HTTP to the TLS listener: no answer.
        await expectRefused(fixture.fleet(fixture.tokens(), trust: nil), status: nil, "plain HTTP must not reach a TLS daemon")
        // A CA the operator did not make (a daemon impersonated by someone else's certificate): the handshake fails.
        let stranger = try DaemonCertificates.makeAuthority()
        try PrivateFile.store(Array(stranger.certificate.utf8), at: fixture.directory + "/stranger.crt")
        await expectRefused(fixture.fleet(fixture.tokens(), trust: DaemonTrust(caFile: fixture.directory + "/stranger.crt")), status: nil,
                            "a daemon certificate from another CA must be refused")
        // The right CA but a name the certificate does not carry.
        await expectRefused(fixture.fleet(fixture.tokens(), trust: DaemonTrust(caFile: fixture.trust.caFile, serverName: "localhost")),
                            status: nil, "a certificate for another name must be refused")
        // Without TokenReview users the daemon's TCP listener answers health and metrics only.
        let status = try CurlTransportCheck.status("https://multi-nicd:\(fixture.port)/healthz", connectTo: "127.0.0.1", port: fixture.port,
                                                   caFile: fixture.trust.caFile)
        #expect(status == 200)
    }

    @Test func theDaemonRateLimitsReviewsOfMadeUpTokens() async throws {
        let fixture = try await SecureFleetFixture()
        // At once, as a flood comes: sent one by one on a loaded machine (a TLS handshake each), 40 calls can take
        // longer than the budget takes to refill, and the test would measure the machine, not the limiter.
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                let fleet = fixture.fleet(StaticDaemonToken("made-up-\(index)-0123456789"), trust: fixture.trust)
                group.addTask { _ = try? await fleet.interfaces(node: "n1") }
            }
        }
        let reviews = fixture.server.log.all.filter { $0.hasPrefix("POST /apis/authentication.k8s.io/v1/tokenreviews") }.count
        #expect(reviews >= 1 && reviews < 40, "a flood of made-up tokens is not a flood of TokenReviews (\(reviews))")
    }
}

/// One request through libcurl with the daemon-style TLS settings.
enum CurlTransportCheck {
    static func status(_ url: String, connectTo address: String, port: Int, caFile: String) throws -> Int {
        let parsed = try #require(URL(string: url))
        var request = HTTPRequest(endpoint: .url("\(parsed.scheme ?? "https")://\(parsed.host ?? ""):\(port)"), method: "GET",
                                  path: parsed.path, tls: .init(caFile: caFile), timeoutSeconds: 10)
        request.connectTo = ["\(parsed.host ?? ""):\(port):\(address):\(port)"]
        return try CurlTransport.perform(request).status
    }
}

@Suite(.ownThread) struct DaemonTLSSecretsTests {
    func secret(_ server: FakeAPIServer, _ name: String) -> [String: JSONValue]? {
        server.objects("api/v1/secrets").first { $0.objectValue?["metadata"]?.objectValue?["name"] == .string(name) }?.objectValue
    }

    func data(_ object: [String: JSONValue]?) -> [String: String] {
        (object?["data"]?.objectValue ?? [:]).compactMapValues { $0.stringValue.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func theSecretsAreMadeOnceKeptAndRenewedBeforeTheyExpire() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let secrets = DaemonTLSSecrets(client: client, namespace: "ops")
        let now = Date()
        let first = try await secrets.ensure(now: now)
        let ca = data(secret(server, "multi-nicd-ca"))
        let serving = data(secret(server, "multi-nicd-tls"))
        #expect(first == ca["ca.crt"] && serving["ca.crt"] == ca["ca.crt"])
        #expect(Set(serving.keys) == ["tls.crt", "tls.key", "ca.crt"], "the daemons' Secret never carries the CA key")
        #expect(DaemonCertificates.servingProblem(.init(certificate: serving["tls.crt"] ?? "", key: serving["tls.key"] ?? ""),
                                                  authority: .init(certificate: ca["ca.crt"] ?? "", key: ca["ca.key"] ?? ""), now: now) == nil)

        // Both Secrets as the API defines a Secret (io.k8s.api.core.v1.Secret): only its fields, data values base64,
        // data keys of alphanumerics, '-', '_' and '.'.
        for name in ["multi-nicd-ca", "multi-nicd-tls"] {
            let object = try #require(secret(server, name))
            #expect(Set(object.keys).isSubset(of: ["apiVersion", "kind", "metadata", "type", "data", "immutable", "stringData"]), "\(object.keys)")
            #expect(object["apiVersion"] == .string("v1") && object["kind"] == .string("Secret"))
            for (key, value) in object["data"]?.objectValue ?? [:] {
                #expect(key.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) } && value.stringValue.flatMap { Data(base64Encoded: $0) } != nil)
            }
        }
        #expect(secret(server, "multi-nicd-tls")?["type"] == .string("kubernetes.io/tls"))

        // Again: nothing is written.
        let writes = server.log.all.filter { !$0.hasPrefix("GET") }.count
        #expect(try await secrets.ensure(now: now) == first)
        #expect(server.log.all.filter { !$0.hasPrefix("GET") }.count == writes, "an unchanged pair is not written again")

        // 340 days later the serving certificate has less than 30 days left: reissued by the same CA.
        let later = now.addingTimeInterval(340 * 86400)
        #expect(try await secrets.ensure(now: later) == first)
        let renewed = data(secret(server, "multi-nicd-tls"))
        #expect(renewed["tls.crt"] != serving["tls.crt"] && data(secret(server, "multi-nicd-ca")) == ca)

        // A damaged serving key is replaced.
        var damaged = try #require(secret(server, "multi-nicd-tls"))
        var fields = damaged["data"]?.objectValue ?? [:]
        fields["tls.key"] = .string(Data("junk".utf8).base64EncodedString())
        damaged["data"] = .object(fields)
        _ = try await client.call("PUT", "/api/v1/namespaces/ops/secrets/multi-nicd-tls", body: Array(JSONValue.object(damaged).description.utf8))
        _ = try await secrets.ensure(now: later)
        #expect(data(secret(server, "multi-nicd-tls"))["tls.key"] != "junk")

        // Nine and a half years on the CA itself is renewed; the bundle keeps trusting the old CA while it is valid,
        // so daemons still serving the old pair stay reachable until they restart.
        let muchLater = now.addingTimeInterval(9.5 * 365 * 86400)
        let bundle = try await secrets.ensure(now: muchLater)
        let newCA = data(secret(server, "multi-nicd-ca"))
        #expect(newCA["ca.crt"] != ca["ca.crt"])
        #expect(bundle.contains(newCA["ca.crt"] ?? "?") && bundle.contains(ca["ca.crt"] ?? "?"))
        let reissued = data(secret(server, "multi-nicd-tls"))
        #expect(DaemonCertificates.servingProblem(.init(certificate: reissued["tls.crt"] ?? "", key: reissued["tls.key"] ?? ""),
                                                  authority: .init(certificate: newCA["ca.crt"] ?? "", key: newCA["ca.key"] ?? ""),
                                                  now: muchLater) == nil)
    }

    @Test func aServingPairFromAnotherCAOrForAnotherNameIsNotAccepted() throws {
        let ca = try DaemonCertificates.makeAuthority()
        let other = try DaemonCertificates.makeAuthority()
        let serving = try DaemonCertificates.makeServing(authority: ca)
        #expect(DaemonCertificates.servingProblem(serving, authority: ca) == nil)
        #expect(DaemonCertificates.servingProblem(serving, authority: other) != nil)
        let foreign = try DaemonCertificates.makeServing(authority: other)
        #expect(DaemonCertificates.servingProblem(.init(certificate: serving.certificate, key: foreign.key), authority: ca) != nil,
                "a key that does not match its certificate")
    }
}
