import Foundation
import MultiNICHTTP

/// The EC2 Query API (version 2016-11-15) over libcurl, signed with SigV4: POSTed form parameters, XML answers.
/// Throttling (HTTP 503, `RequestLimitExceeded`, `Throttling`), server errors and unreachable endpoints are retried
/// with doubling pauses; anything else fails at once with EC2's code and message.
public struct EC2Client: Sendable {
    public static let apiVersion = "2016-11-15"
    static let transientCodes: Set<String> = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError",
                                              "Unavailable", "ServiceUnavailable", "InsufficientAddressCapacity"]

    let settings: AWSSettings
    let identity: AWSIdentity
    /// Sleeps between attempts (tests pass one that records).
    let pause: @Sendable (Duration) -> Void

    public init(settings: AWSSettings, identity: AWSIdentity? = nil,
                pause: @escaping @Sendable (Duration) -> Void = { duration in
                    let (seconds, attoseconds) = duration.components
                    usleep(UInt32(clamping: seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
                }) {
        self.settings = settings
        self.identity = identity ?? AWSIdentity(settings: settings)
        self.pause = pause
    }

    /// Performs `action` with `parameters`; returns the XML answer of a 200.
    public func call(_ action: String, _ parameters: [(String, String)]) throws(CloudError) -> String {
        let region = try identity.region()
        let endpoint = settings.ec2Endpoint ?? "https://ec2.\(region).amazonaws.com"
        guard let host = Self.hostPart(of: endpoint) else { throw .transport("EC2 endpoint \(endpoint) is not an http(s) URL") }
        let body = Array(SigV4.canonicalQuery([("Action", action), ("Version", Self.apiVersion)] + parameters).utf8)
        var pause = settings.firstPause
        var last = ""
        let attempts = max(1, settings.attempts)
        for attempt in 1...attempts {
            if attempt > 1 {
                self.pause(pause)
                pause = min(pause * 2, settings.maximumPause)
            }
            let credentials = try identity.credentials()
            let contentType = "application/x-www-form-urlencoded; charset=utf-8"
            let signed = SigV4(service: "ec2", region: region).sign(
                method: "POST", path: "/", query: [], headers: ["Host": host, "Content-Type": contentType], body: body,
                credentials: credentials, timestamp: Self.timestamp(Date()))
            let request = HTTPRequest(endpoint: .url(endpoint), method: "POST", path: "/",
                                      headers: ["Content-Type: \(contentType)"] + signed.map { "\($0.0): \($0.1)" }, body: body,
                                      timeoutSeconds: settings.timeoutSeconds)
            let answer: (status: Int, body: [UInt8])
            do {
                answer = try CurlTransport.perform(request)
            } catch {
                last = error.description
                continue
            }
            let text = String(decoding: answer.body, as: UTF8.self)
            if answer.status == 200 { return text }
            let code = Self.element("Code", in: text) ?? "HTTP\(answer.status)"
            let message = Self.element("Message", in: text) ?? String(text.prefix(200))
            if answer.status == 503 || answer.status >= 500 || Self.transientCodes.contains(code) {
                last = "\(answer.status) \(code): \(message)"
                continue
            }
            throw .api(status: answer.status, code: code, message: message)
        }
        throw .throttled(attempts: attempts, last: last)
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    /// `host[:port]` of an http(s) URL, as the Host header carries it.
    static func hostPart(of url: String) -> String? {
        for scheme in ["https://", "http://"] where url.hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            let host = rest.prefix { $0 != "/" }
            return host.isEmpty ? nil : String(host)
        }
        return nil
    }

    /// The text of the first `<name>…</name>` in `xml` (EC2's answers are flat enough for this).
    static func element(_ name: String, in xml: String) -> String? {
        elements(name, in: xml).first
    }

    /// The texts of every `<name>…</name>` in `xml`, in order.
    static func elements(_ name: String, in xml: String) -> [String] {
        var found: [String] = []
        var rest = Substring(xml)
        // The standard library's searches, not Foundation's: multi-nicd does not need Foundation proper.
        while let open = rest.firstRange(of: "<\(name)>") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstRange(of: "</\(name)>") else { break }
            found.append(String(rest[..<close.lowerBound]).replacing("&lt;", with: "<")
                .replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
                .replacing("&apos;", with: "'").replacing("&amp;", with: "&"))
            rest = rest[close.upperBound...]
        }
        return found
    }
}
