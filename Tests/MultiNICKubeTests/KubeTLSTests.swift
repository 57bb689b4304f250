import Foundation
import MultiNICCore
@testable import MultiNICKube
import MultiNICKubeFake
import MultiNICTestSupport
import Testing

/// HTTPS with a test CA made by openssl: the client trusts the cluster's CA and nothing else, and authenticates with a
/// client certificate (from a kubeconfig's inline data) to a server that demands one.
@Suite(.ownThread, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl to make the test CA"))
struct KubeTLSTests {
    /// A CA, a second unrelated CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the first.
    func makeCertificates() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-tls-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=IP:127.0.0.1\n".write(toFile: directory + "/ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client-ext", atomically: true, encoding: .utf8)
        let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
        for arguments in [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=test-ca"],
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out", "other.crt", "-days", "1", "-subj", "/CN=other-ca"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt",
             "-days", "1", "-extfile", "ext"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", "/O=system:masters/CN=admin"],
            ["x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.crt",
             "-days", "1", "-extfile", "client-ext"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "stranger.key", "-out", "stranger.csr", "-subj", "/CN=stranger"],
            ["x509", "-req", "-in", "stranger.csr", "-CA", "other.crt", "-CAkey", "other.key", "-CAcreateserial", "-out", "stranger.crt",
             "-days", "1", "-extfile", "client-ext"],
        ] {
            let files: Set<String> = ["ext", "client-ext"]
            let (status, output) = try CapturedRun.run(openssl, arguments.map {
                $0.hasSuffix(".key") || $0.hasSuffix(".crt") || $0.hasSuffix(".csr") || files.contains($0) ? directory + "/" + $0 : $0
            })
            try #require(status == 0, "\(output)")
        }
        return directory
    }

    @Test func theClientVerifiesTheServerAgainstTheClusterCA() async throws {
        let directory = try makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await FakeAPIServer(tls: .init(certificate: directory + "/server.crt", key: directory + "/server.key"))
        defer { server.stop() }
        let trusted = KubeClient(config: KubeConfig(server: server.url, tls: .init(caFile: directory + "/ca.crt"), token: server.token))
        _ = try await trusted.create(ClusterNode(metadata: ObjectMeta(name: "n1"), spec: NodeSpec()))
        #expect(try await trusted.list(NodeSpec.self, namespace: nil).items.map(\.name) == ["n1"])
        let untrusting = KubeClient(config: KubeConfig(server: server.url, tls: .init(caFile: directory + "/other.crt"), token: server.token))
        do {
            _ = try await untrusting.list(NodeSpec.self, namespace: nil)
            Issue.record("a server certificate not signed by the cluster's CA must be refused")
        } catch {
            guard case .transport = error else { Issue.record("expected a TLS failure, got \(error)"); return }
        }
    }

    @Test func aKubeconfigClientCertificateAuthenticatesToAServerThatDemandsOne() async throws {
        let directory = try makeCertificates()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await FakeAPIServer(token: nil, tls: .init(certificate: directory + "/server.crt", key: directory + "/server.key",
                                                                     clientCA: directory + "/ca.crt"))
        defer { server.stop() }
        func inline(_ file: String) throws -> String { try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)).base64EncodedString() }
        func kubeconfig(certificate: String, key: String) throws -> String {
            let path = directory + "/kubeconfig-\(certificate)"
            try """
                apiVersion: v1
                kind: Config
                current-context: admin
                clusters: [{name: test, cluster: {server: "\(server.url)", certificate-authority-data: \(try inline("ca.crt"))}}]
                users: [{name: admin, user: {client-certificate-data: \(try inline(certificate)), client-key-data: \(try inline(key))}}]
                contexts: [{name: admin, context: {cluster: test, user: admin}}]
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let admin = KubeClient(config: try KubeConfig.kubeconfig(path: try kubeconfig(certificate: "client.crt", key: "client.key"),
                                                                 materialDirectory: directory + "/material-admin"))
        #expect(admin.config.token == nil && admin.config.tls.clientCertificateFile != nil, "certificate authentication only")
        _ = try await admin.create(ClusterNode(metadata: ObjectMeta(name: "n1"), spec: NodeSpec()))
        #expect(try await admin.list(NodeSpec.self, namespace: nil).items.map(\.name) == ["n1"])

        let stranger = KubeClient(config: try KubeConfig.kubeconfig(path: try kubeconfig(certificate: "stranger.crt", key: "stranger.key"),
                                                                    materialDirectory: directory + "/material-stranger"))
        let anonymous = KubeClient(config: KubeConfig(server: server.url, tls: .init(caFile: directory + "/ca.crt")))
        for (who, client) in [("a certificate from another CA", stranger), ("no certificate", anonymous)] {
            do {
                _ = try await client.list(NodeSpec.self, namespace: nil)
                Issue.record("\(who) must be refused")
            } catch {
                guard case .transport = error else { Issue.record("\(who): expected the handshake to fail, got \(error)"); return }
            }
        }
        #expect(server.log.all.count == 2, "only the admin's two requests reached the server: \(server.log.all)")
    }
}
