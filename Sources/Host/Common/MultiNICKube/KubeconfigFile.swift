#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MultiNICCore
import MultiNICPluginHost

/// The parts of a kubeconfig file (`apiVersion: v1`, `kind: Config`) the client uses, parsed once. Read from JSON
/// directly, or from YAML through the YAML bridge (so programs that link no YAML parser read YAML kubeconfigs too).
struct KubeconfigFile: Decodable, Sendable {
    /// An entry of a named list: `{name: …, cluster|context|user: {…}}`.
    struct Named<Value: NamedValue>: Decodable, Sendable {
        var name: String
        var value: Value

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyCodingKey.self)
            name = try container.decode(String.self, forKey: AnyCodingKey("name"))
            value = try container.decode(Value.self, forKey: AnyCodingKey(Value.field))
        }
    }

    /// What a named list holds, and the field of its entries that holds it.
    protocol NamedValue: Decodable, Sendable {
        static var field: String { get }
    }

    struct Cluster: NamedValue {
        static var field: String { "cluster" }
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    struct Context: NamedValue {
        static var field: String { "context" }
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    struct User: NamedValue {
        static var field: String { "user" }
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
        }
    }

    var currentContext: String?
    var clusters: [Named<Cluster>]?
    var contexts: [Named<Context>]?
    var users: [Named<User>]?

    /// The value of the entry called `name` in `list`.
    static func entry<Value>(_ name: String, in list: [Named<Value>]?) -> Value? {
        list?.first { $0.name == name }?.value
    }

    enum CodingKeys: String, CodingKey {
        case currentContext = "current-context"
        case clusters, contexts, users
    }

    /// Parses a kubeconfig's text: JSON when it starts with `{`, else YAML through `bridge` (called only then).
    /// Errors name the field (`clusters[0].cluster.server: must be a string`) or the YAML line.
    static func parse(_ text: String, bridge: () throws(YAMLBridgeError) -> YAMLBridge = YAMLBridge.shared)
        throws(KubeconfigFileError) -> KubeconfigFile
    {
        let json: String
        if text.first(where: { !$0.isWhitespace }) == "{" {
            json = text
        } else {
            do {
                json = try bridge().json(fromYAML: text)
            } catch {
                throw KubeconfigFileError(error.description)
            }
        }
        do {
            return try JSONDecoder().decode(KubeconfigFile.self, from: Data(json.utf8))
        } catch {
            throw KubeconfigFileError(json == "null" ? "the file is empty" : DecodingErrorText.describe(error))
        }
    }
}

/// Why a kubeconfig's text cannot be used.
struct KubeconfigFileError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
