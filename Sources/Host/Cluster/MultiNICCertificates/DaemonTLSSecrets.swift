import Foundation
import MultiNICCore
import MultiNICKube

/// Keeps the operator → daemon TLS material in two Secrets of the operator's namespace:
///
/// - ``authoritySecret`` (`ca.crt`, `ca.key`): the CA; read by the operator only, never mounted on a node.
/// - ``servingSecret`` (`kubernetes.io/tls`: `tls.crt`, `tls.key`, `ca.crt`): the daemons' serving pair, mounted by the
///   DaemonSet; `ca.crt` is the trust bundle (the current CA, and the previous one while it is still valid).
///
/// ``ensure(now:)`` creates what is missing and reissues what is unusable or close to expiry; it is idempotent and
/// safe against a second replica doing the same (409 → read again).
public struct DaemonTLSSecrets: Sendable {
    public static let authoritySecret = "multi-nicd-ca"
    public static let servingSecret = "multi-nicd-tls"

    let client: KubeClient
    let namespace: String

    public init(client: KubeClient, namespace: String) {
        self.client = client
        self.namespace = namespace
    }

    /// Makes both Secrets usable; returns the trust bundle (PEM) to verify daemons with.
    public func ensure(now: Date = Date()) async throws(KubeError) -> String {
        var lastError = KubeError.configuration("the daemon TLS Secrets kept changing under us")
        for _ in 0..<4 {
            do {
                return try await attempt(now: now)
            } catch {
                guard error.code == 409 else { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private func attempt(now: Date) async throws(KubeError) -> String {
        let existingAuthority = try await read(Self.authoritySecret)
        var authority = existingAuthority.flatMap { secret in
            secret.data["ca.crt"].flatMap { crt in secret.data["ca.key"].map { DaemonCertificates.KeyPair(certificate: crt, key: $0) } }
        }
        var previousAuthority: String?
        if let current = authority, DaemonCertificates.authorityProblem(current, now: now) != nil {
            // Still trusted until it expires: daemons keep their old serving certificate until they restart.
            if DaemonCertificates.authorityProblem(current, now: now, renewBefore: 0) == nil { previousAuthority = current.certificate }
            authority = nil
        }
        let ca: DaemonCertificates.KeyPair
        if let authority {
            ca = authority
        } else {
            ca = try issue { () throws(DaemonCertificates.Problem) in try DaemonCertificates.makeAuthority(now: now) }
            try await write(Self.authoritySecret, type: "Opaque", data: ["ca.crt": ca.certificate, "ca.key": ca.key],
                            replacing: existingAuthority)
        }
        let existingServing = try await read(Self.servingSecret)
        let bundle = ca.certificate + (previousAuthority.map { "\n" + $0 } ?? "")
        if let serving = existingServing, let crt = serving.data["tls.crt"], let key = serving.data["tls.key"],
           DaemonCertificates.servingProblem(.init(certificate: crt, key: key), authority: ca, now: now) == nil {
            // Keep a bundle that still carries a previous CA; otherwise make it the current CA.
            let trusted = serving.data["ca.crt"] ?? ""
            if trusted.contains(ca.certificate.trimmingCharacters(in: .whitespacesAndNewlines)) { return trusted }
            try await write(Self.servingSecret, type: "kubernetes.io/tls", data: ["tls.crt": crt, "tls.key": key, "ca.crt": bundle],
                            replacing: serving)
            return bundle
        }
        let pair = try issue { () throws(DaemonCertificates.Problem) in try DaemonCertificates.makeServing(authority: ca, now: now) }
        try await write(Self.servingSecret, type: "kubernetes.io/tls",
                        data: ["tls.crt": pair.certificate, "tls.key": pair.key, "ca.crt": bundle], replacing: existingServing)
        return bundle
    }

    private func issue(_ make: () throws(DaemonCertificates.Problem) -> DaemonCertificates.KeyPair) throws(KubeError)
        -> DaemonCertificates.KeyPair
    {
        do {
            return try make()
        } catch {
            throw .configuration(error.description)
        }
    }

    /// A Secret as read: its decoded data and resourceVersion.
    struct Stored {
        var data: [String: String]
        var resourceVersion: String?
    }

    private func path(_ name: String?) -> String {
        KubePaths.collection(apiVersion: "v1", plural: "secrets", namespace: namespace) + (name.map { "/" + $0 } ?? "")
    }

    private func read(_ name: String) async throws(KubeError) -> Stored? {
        let body: [UInt8]
        do {
            body = try await client.call("GET", path(name))
        } catch {
            if error.code == 404 { return nil }
            throw error
        }
        guard let object = try? JSONValue.parse(String(decoding: body, as: UTF8.self)).objectValue else {
            throw .decoding("Secret \(name) is not an object")
        }
        var data: [String: String] = [:]
        for (key, value) in object["data"]?.objectValue ?? [:] {
            if let text = value.stringValue, let bytes = Data(base64Encoded: text) { data[key] = String(decoding: bytes, as: UTF8.self) }
        }
        return Stored(data: data, resourceVersion: object["metadata"]?.objectValue?["resourceVersion"]?.stringValue)
    }

    private func write(_ name: String, type: String, data: [String: String], replacing existing: Stored?) async throws(KubeError) {
        var metadata: [String: JSONValue] = [
            "name": .string(name), "namespace": .string(namespace),
            "labels": .object(["app.kubernetes.io/managed-by": .string("multi-nic-operator")]),
        ]
        if let version = existing?.resourceVersion { metadata["resourceVersion"] = .string(version) }
        let secret = JSONValue.object([
            "apiVersion": .string("v1"), "kind": .string("Secret"), "metadata": .object(metadata), "type": .string(type),
            "data": .object(data.mapValues { .string(Data($0.utf8).base64EncodedString()) }),
        ])
        let body = Array(secret.description.utf8)
        _ = try await client.call(existing == nil ? "POST" : "PUT", path(existing == nil ? nil : name), body: body)
    }
}
