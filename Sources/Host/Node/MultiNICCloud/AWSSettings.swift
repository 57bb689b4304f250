import Foundation
import MultiNICCore
import MultiNICHTTP
import Synchronization

/// Where the daemon reaches AWS: the EC2 endpoint, the instance metadata service (IMDSv2), the region and how
/// throttled calls are retried. Credentials come from the environment (`AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) or else from the instance role through IMDSv2.
public struct AWSSettings: Sendable, Hashable {
    /// `https://ec2.<region>.amazonaws.com` when nil.
    public var ec2Endpoint: String?
    /// The instance metadata service.
    public var imdsEndpoint = "http://169.254.169.254"
    /// `AWS_REGION` / `AWS_DEFAULT_REGION`, else IMDS `placement/region`, when nil.
    public var region: String?
    /// Attempts per call when EC2 throttles (HTTP 503, `RequestLimitExceeded`) or cannot be reached.
    public var attempts = 6
    /// The first pause between attempts; each next one doubles, up to ``maximumPause``.
    public var firstPause: Duration = .milliseconds(200)
    public var maximumPause: Duration = .seconds(5)
    /// Seconds before one call is given up.
    public var timeoutSeconds = 10
    /// Seconds before one instance-metadata request is given up (the service is link-local: an answer is quick).
    public var imdsTimeoutSeconds = 2
    /// Attempts per instance-metadata request that got no answer (connection or timeout; an HTTP error is final).
    public var imdsAttempts = 3

    public init(ec2Endpoint: String? = nil, region: String? = nil) {
        self.ec2Endpoint = ec2Endpoint
        self.region = region
    }
}

/// Credentials and region, from the environment or IMDSv2 (token first: a `PUT` with a TTL, then `GET`s that
/// carry it). Instance-role credentials are kept until five minutes before they expire.
public final class AWSIdentity: Sendable {
    let settings: AWSSettings
    let environment: [String: String]
    private let cached = Mutex<(credentials: AWSCredentials, until: Date)?>(nil)
    private let cachedRegion = Mutex<String?>(nil)

    public init(settings: AWSSettings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.environment = environment
    }

    /// The credentials to sign with.
    public func credentials() throws(CloudError) -> AWSCredentials {
        if let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty {
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
        }
        if let cached = cached.withLock({ $0 }), cached.until > Date() { return cached.credentials }
        let token: String, role: String
        do {
            token = try imdsToken()
            role = try imdsGet("/latest/meta-data/iam/security-credentials/", token: token)
                .split(separator: "\n").first.map(String.init) ?? ""
        } catch {
            throw .noCredentials("not in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and none from the instance "
                + "metadata service at \(settings.imdsEndpoint): \(error)")
        }
        guard !role.isEmpty, role.allSatisfy({ $0.isLetter || $0.isNumber || "+=,.@_-".contains($0) }) else {
            throw .noCredentials("the instance has no IAM role (instance metadata names none)")
        }
        let document: String
        do {
            document = try imdsGet("/latest/meta-data/iam/security-credentials/\(role)", token: token)
        } catch {
            throw .noCredentials("role \(role): \(error)")
        }
        struct Document: Decodable {
            var AccessKeyId: String
            var SecretAccessKey: String
            var Token: String?
            var Expiration: String?
        }
        guard let parsed = try? JSONDecoder().decode(Document.self, from: Data(document.utf8)) else {
            throw .noCredentials("role \(role): the instance metadata service's credentials are not the expected JSON")
        }
        let credentials = AWSCredentials(accessKeyID: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, sessionToken: parsed.Token)
        let expires = parsed.Expiration.flatMap { try? Date($0, strategy: .iso8601) } ?? Date().addingTimeInterval(900)
        cached.withLock { $0 = (credentials, expires.addingTimeInterval(-300)) }
        return credentials
    }

    /// The region of the EC2 calls.
    public func region() throws(CloudError) -> String {
        if let region = settings.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"], !region.isEmpty {
            return region
        }
        if let region = cachedRegion.withLock({ $0 }) { return region }
        let found: String
        do {
            found = try imdsGet("/latest/meta-data/placement/region", token: try imdsToken())
        } catch {
            throw .noRegion("set --ec2-region or AWS_REGION; the instance metadata service did not say: \(error)")
        }
        guard !found.isEmpty, found.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw .noRegion("the instance metadata service answered \"\(found.prefix(40))\"")
        }
        cachedRegion.withLock { $0 = found }
        return found
    }

    func imdsToken() throws(CloudError) -> String {
        let request = HTTPRequest(endpoint: .url(settings.imdsEndpoint), method: "PUT", path: "/latest/api/token",
                                  headers: ["X-aws-ec2-metadata-token-ttl-seconds: 21600"], body: [], timeoutSeconds: settings.imdsTimeoutSeconds)
        return try imds(request)
    }

    func imdsGet(_ path: String, token: String) throws(CloudError) -> String {
        try imds(HTTPRequest(endpoint: .url(settings.imdsEndpoint), method: "GET", path: path,
                             headers: ["X-aws-ec2-metadata-token: \(token)"], timeoutSeconds: settings.imdsTimeoutSeconds))
    }

    private func imds(_ request: HTTPRequest) throws(CloudError) -> String {
        var answer: (status: Int, body: [UInt8]) = (0, [])
        for attempt in 1...max(1, settings.imdsAttempts) {
            do {
                answer = try CurlTransport.perform(request)
                break
            } catch {
                if attempt >= settings.imdsAttempts { throw .transport(error.description) }
            }
        }
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else { throw .api(status: answer.status, code: "IMDS", message: "\(request.path): \(text.prefix(200))") }
        return text.trimmedWhitespace
    }
}
