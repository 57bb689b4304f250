#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore
import MultiNICHTTP

/// Where the API server is and how to authenticate: in-cluster (service account) or a kubeconfig file.
public struct KubeConfig: Sendable {
    /// `https://host:port`.
    public var server: String
    public var tls: HTTPRequest.TLS
    /// A bearer token file, read again whenever it changes (service-account tokens rotate).
    public var tokenFile: String?
    /// A fixed bearer token (kubeconfig `token`).
    public var token: String?
    /// The namespace to use when none is given (in-cluster: the pod's).
    public var namespace: String

    public init(server: String, tls: HTTPRequest.TLS = HTTPRequest.TLS(), tokenFile: String? = nil, token: String? = nil,
                namespace: String = "default") {
        self.server = server
        self.tls = tls
        self.tokenFile = tokenFile
        self.token = token
        self.namespace = namespace
    }

    /// In a pod: KUBERNETES_SERVICE_HOST/PORT and the service account's token, CA and namespace.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 accountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount") throws(KubeError) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw .configuration("not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        guard FileManager.default.fileExists(atPath: accountDirectory + "/token") else {
            throw .configuration("no service-account token in \(accountDirectory)")
        }
        let namespace = (try? String(contentsOfFile: accountDirectory + "/namespace", encoding: .utf8))?
            .trimmedWhitespace ?? "default"
        let address = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(server: "https://\(address):\(port)", tls: HTTPRequest.TLS(caFile: accountDirectory + "/ca.crt"),
                          tokenFile: accountDirectory + "/token", namespace: namespace)
    }

    /// The current context of a kubeconfig file (`KUBECONFIG` or ~/.kube/config by default), JSON or YAML (YAML is
    /// read through the YAML bridge, ``YAMLBridge``). Inline certificate data is written to private files (0600,
    /// created exclusively) under `materialDirectory`, by default a fresh `mkdtemp` directory (libcurl reads PEM files).
    public static func kubeconfig(path: String? = nil, context: String? = nil,
                                  materialDirectory: String? = nil) throws(KubeError) -> KubeConfig {
        let file = path ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.kube/config"
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw .configuration("cannot read \(file): \(error)")
        }
        let document: KubeconfigFile
        do {
            document = try KubeconfigFile.parse(text)
        } catch {
            throw .configuration("\(file): \(error.description)")
        }
        guard let contextName = context ?? document.currentContext, !contextName.isEmpty else {
            throw .configuration("\(file): no current-context (pass a context)")
        }
        guard let selected = KubeconfigFile.entry(contextName, in: document.contexts) else {
            throw .configuration("\(file): contexts has no \"\(contextName)\"")
        }
        guard let clusterName = selected.cluster else { throw .configuration("\(file): context \(contextName) has no cluster") }
        guard let cluster = KubeconfigFile.entry(clusterName, in: document.clusters) else {
            throw .configuration("\(file): clusters has no \"\(clusterName)\"")
        }
        guard let server = cluster.server else { throw .configuration("\(file): cluster \(clusterName) has no server") }
        let user = selected.user.flatMap { KubeconfigFile.entry($0, in: document.users) }
        var tls = HTTPRequest.TLS(skipVerification: cluster.insecureSkipTLSVerify ?? false)
        let materialDirectory = MaterialDirectory(given: materialDirectory)
        tls.caFile = try material(file: cluster.certificateAuthority, data: cluster.certificateAuthorityData,
                                  field: "certificate-authority-data", name: "ca.crt", directory: materialDirectory)
        tls.clientCertificateFile = try material(file: user?.clientCertificate, data: user?.clientCertificateData,
                                                 field: "client-certificate-data", name: "client.crt", directory: materialDirectory)
        tls.clientKeyFile = try material(file: user?.clientKey, data: user?.clientKeyData, field: "client-key-data",
                                         name: "client.key", directory: materialDirectory)
        return KubeConfig(server: server.hasSuffix("/") ? String(server.dropLast()) : server, tls: tls,
                          tokenFile: user?.tokenFile, token: user?.token, namespace: selected.namespace ?? "default")
    }

    /// Where inline material goes: the given directory, or one `mkdtemp` directory made on first use.
    final class MaterialDirectory {
        private let given: String?
        private var made: String?

        init(given: String?) { self.given = given }

        func path() throws(KubeError) -> String {
            if let given {
                if mkdir(given, 0o700) != 0 && errno != EEXIST {
                    throw .configuration("cannot create \(given): " + String(cString: strerror(errno)))
                }
                return given
            }
            if let made { return made }
            do {
                let directory = try PrivateFile.makeDirectory(in: FileManager.default.temporaryDirectory.path, prefix: "multinic-kube-")
                made = directory
                return directory
            } catch {
                throw .configuration(error.description)
            }
        }
    }

    /// A PEM path: `file`, or `data` (base64) written to a new private file `name` in the material directory.
    private static func material(file: String?, data: String?, field: String, name: String,
                                 directory: MaterialDirectory) throws(KubeError) -> String? {
        if let file { return file }
        guard let data else { return nil }
        guard let decoded = Data(base64Encoded: data) else { throw .configuration("\(field) is not base64") }
        let path = try directory.path() + "/" + name
        do {
            try PrivateFile.store(Array(decoded), at: path)
        } catch {
            throw .configuration("cannot store \(name): \(error)")
        }
        return path
    }
}
