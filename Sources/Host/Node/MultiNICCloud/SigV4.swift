/// AWS credentials: an access key pair and, for temporary credentials (an instance role), the session token.
public struct AWSCredentials: Sendable, Hashable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// Signature Version 4 (AWS4-HMAC-SHA256) of one HTTP request: the headers to send with it.
public struct SigV4: Sendable {
    public var service: String
    public var region: String

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// The headers that sign a request (`X-Amz-Date`, `X-Amz-Security-Token` when the credentials have one,
    /// `Authorization`). `headers` are the request's other headers to sign (`Host` and `Content-Type` at least);
    /// `timestamp` is `yyyyMMdd'T'HHmmss'Z'` in UTC.
    public func sign(method: String, path: String, query: [(String, String)], headers: [String: String], body: [UInt8],
                     credentials: AWSCredentials, timestamp: String) -> [(String, String)] {
        var signed = Dictionary(headers.map { ($0.key.lowercased(), Self.trimmed($0.value)) }, uniquingKeysWith: { _, last in last })
        signed["x-amz-date"] = timestamp
        if let token = credentials.sessionToken { signed["x-amz-security-token"] = token }
        let names = signed.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(signed[$0] ?? "")\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonicalRequest = [method, Self.canonicalPath(path), Self.canonicalQuery(query), canonicalHeaders, signedHeaders,
                                SHA256.hex(SHA256.hash(body))].joined(separator: "\n")
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", timestamp, scope, SHA256.hex(SHA256.hash(Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = Array("AWS4\(credentials.secretAccessKey)".utf8)
        for part in [day, region, service, "aws4_request"] { key = SHA256.hmac(key: key, Array(part.utf8)) }
        let signature = SHA256.hex(SHA256.hmac(key: key, Array(stringToSign.utf8)))
        var result = [("X-Amz-Date", timestamp)]
        if let token = credentials.sessionToken { result.append(("X-Amz-Security-Token", token)) }
        result.append(("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return result
    }

    /// RFC 3986 percent-encoding of everything but the unreserved characters, as SigV4 and the Query API want it.
    public static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%" + String(SHA256.hex([byte]).uppercased())
            }
        }
        return result
    }

    /// `key=value&…`, encoded and sorted by key then value: the canonical query string, and a Query API body.
    public static func canonicalQuery(_ pairs: [(String, String)]) -> String {
        pairs.map { (percentEncoded($0.0), percentEncoded($0.1)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Each path segment encoded once ("/" when empty).
    static func canonicalPath(_ path: String) -> String {
        guard !path.isEmpty else { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { percentEncoded(String($0)) }.joined(separator: "/")
    }

    /// A header value with its ends trimmed and inner runs of spaces folded to one.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
