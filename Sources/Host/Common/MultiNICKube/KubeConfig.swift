import Foundation
import MultiNICCore
import MultiNICHTTP
import Yams

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

    /// The current context of a kubeconfig file (`KUBECONFIG` or ~/.kube/config by default). Inline certificate data
    /// is written to private files (0600, created exclusively) under `materialDirectory`, by default a fresh `mkdtemp`
    /// directory (libcurl reads PEM files).
    public static func kubeconfig(path: String? = nil, context: String? = nil,
                                  materialDirectory: String? = nil) throws(KubeError) -> KubeConfig {
        let file = path ?? ProcessInfo.processInfo.environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.kube/config"
        let document: [String: Any]
        do {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else { throw KubeError.configuration("\(file) is not a mapping") }
            document = loaded
        } catch let error as KubeError {
            throw error
        } catch {
            throw .configuration("cannot read \(file): \(error)")
        }
        func named(_ list: String, _ name: String, _ field: String) throws(KubeError) -> [String: Any] {
            let items = document[list] as? [[String: Any]] ?? []
            guard let item = items.first(where: { $0["name"] as? String == name }), let value = item[field] as? [String: Any] else {
                throw .configuration("\(file): \(list) has no \"\(name)\"")
            }
            return value
        }
        guard let contextName = context ?? document["current-context"] as? String else {
            throw .configuration("\(file): no current-context (pass a context)")
        }
        let selected = try named("contexts", contextName, "context")
        guard let clusterName = selected["cluster"] as? String else { throw .configuration("\(file): context \(contextName) has no cluster") }
        let cluster = try named("clusters", clusterName, "cluster")
        guard let server = cluster["server"] as? String else { throw .configuration("\(file): cluster \(clusterName) has no server") }
        let user = (selected["user"] as? String).flatMap { try? named("users", $0, "user") } ?? [:]
        var tls = HTTPRequest.TLS(skipVerification: cluster["insecure-skip-tls-verify"] as? Bool ?? false)
        let materialDirectory = MaterialDirectory(given: materialDirectory)
        tls.caFile = try material(cluster, file: "certificate-authority", data: "certificate-authority-data", name: "ca.crt",
                                  directory: materialDirectory)
        tls.clientCertificateFile = try material(user, file: "client-certificate", data: "client-certificate-data",
                                                 name: "client.crt", directory: materialDirectory)
        tls.clientKeyFile = try material(user, file: "client-key", data: "client-key-data", name: "client.key", directory: materialDirectory)
        return KubeConfig(server: server.hasSuffix("/") ? String(server.dropLast()) : server, tls: tls,
                          tokenFile: user["tokenFile"] as? String, token: user["token"] as? String,
                          namespace: selected["namespace"] as? String ?? "default")
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

    /// A PEM path from `file`, or `data` (base64) written to a new private file `name` in the material directory.
    private static func material(_ section: [String: Any], file: String, data: String, name: String,
                                 directory: MaterialDirectory) throws(KubeError) -> String? {
        if let path = section[file] as? String { return path }
        guard let encoded = section[data] as? String else { return nil }
        guard let decoded = Data(base64Encoded: encoded) else { throw .configuration("\(data) is not base64") }
        let path = try directory.path() + "/" + name
        do {
            try PrivateFile.store(Array(decoded), at: path)
        } catch {
            throw .configuration("cannot store \(name): \(error)")
        }
        return path
    }
}
