import MultiNICCore
import MultiNICDaemonClient

/// A daemon over TCP through libcurl: the operator's channel. Plain HTTP, or TLS verified against the operator's CA
/// with the name every daemon's certificate carries while libcurl connects to the node's address.
public struct DaemonTCPTransport: DaemonTransport {
    public let host: String
    public let port: Int
    public let trust: DaemonTrust?

    public init(host: String, port: Int, trust: DaemonTrust?) {
        self.host = host
        self.port = port
        self.trust = trust
    }

    public var description: String { (trust == nil ? "http://" : "https://") + Self.bracketed(host) + ":\(port)" }

    public func exchange(method: String, path: String, headers: [String], body: [UInt8]?,
                         timeoutSeconds: Int) throws(DaemonClientError) -> (status: Int, body: [UInt8]) {
        var request: HTTPRequest
        if let trust {
            // The URL names the certificate's name; libcurl connects to the node's address.
            request = HTTPRequest(endpoint: .url("https://\(trust.serverName):\(port)"), method: method, path: path,
                                  headers: headers, body: body, tls: .init(caFile: trust.caFile), timeoutSeconds: timeoutSeconds)
            request.connectTo = ["\(trust.serverName):\(port):\(Self.bracketed(host)):\(port)"]
        } else {
            request = HTTPRequest(endpoint: .url("http://\(Self.bracketed(host)):\(port)"), method: method, path: path,
                                  headers: headers, body: body, timeoutSeconds: timeoutSeconds)
        }
        do {
            return try CurlTransport.perform(request)
        } catch {
            throw .unreachable(socket: description, reason: error.description)
        }
    }

    static func bracketed(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }
}
