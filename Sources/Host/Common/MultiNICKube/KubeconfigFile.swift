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
    struct NamedCluster: Decodable, Sendable {
        var name: String
        var cluster: Cluster
    }

    struct Cluster: Decodable, Sendable {
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

    struct NamedContext: Decodable, Sendable {
        var name: String
        var context: Context
    }

    struct Context: Decodable, Sendable {
        var cluster: String?
        var user: String?
        var namespace: String?
    }

    struct NamedUser: Decodable, Sendable {
        var name: String
        var user: User
    }

    struct User: Decodable, Sendable {
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
    var clusters: [NamedCluster]?
    var contexts: [NamedContext]?
    var users: [NamedUser]?

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
            let file = try JSONDecoder().decode(KubeconfigFile.self, from: Data(json.utf8))
            return file
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
