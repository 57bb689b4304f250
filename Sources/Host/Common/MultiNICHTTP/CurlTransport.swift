import CCurl
import MultiNICCore

/// One HTTP request for ``CurlTransport``.
public struct HTTPRequest: Sendable {
    public enum Endpoint: Sendable, Hashable {
        /// `http://localhost<path>` over a unix socket (the node daemon).
        case unixSocket(path: String)
        /// `scheme://host:port` (the Kubernetes API, a daemon over TCP).
        case url(String)
    }

    /// TLS settings for `https` endpoints (PEM files).
    public struct TLS: Sendable, Hashable {
        public var caFile: String?
        public var clientCertificateFile: String?
        public var clientKeyFile: String?
        public var skipVerification: Bool

        public init(caFile: String? = nil, clientCertificateFile: String? = nil, clientKeyFile: String? = nil,
                    skipVerification: Bool = false) {
            self.caFile = caFile
            self.clientCertificateFile = clientCertificateFile
            self.clientKeyFile = clientKeyFile
            self.skipVerification = skipVerification
        }
    }

    public var endpoint: Endpoint
    public var method: String
    /// Path and query, e.g. `/api/v1/nodes?limit=500`.
    public var path: String
    public var headers: [String]
    public var body: [UInt8]?
    public var tls: TLS
    /// libcurl `CONNECT_TO` entries (`HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`): reach an address while the URL's
    /// host name is what TLS verifies.
    public var connectTo: [String] = []
    /// Whole-request timeout in seconds (0: none, for watches).
    public var timeoutSeconds: Int

    public init(endpoint: Endpoint, method: String, path: String, headers: [String] = [], body: [UInt8]? = nil,
                tls: TLS = TLS(), timeoutSeconds: Int = 30) {
        self.endpoint = endpoint
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.tls = tls
        self.timeoutSeconds = timeoutSeconds
    }
}

/// Why a request did not get an HTTP answer.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// HTTP with libcurl (Debian's libcurl4-openssl-dev, loaded on first use): blocking, one handle per request.
public enum CurlTransport {
    /// Performs `request`; returns the status and the whole body.
    public static func perform(_ request: HTTPRequest) throws(TransportError) -> (status: Int, body: [UInt8]) {
        var body: [UInt8] = []
        let status = try stream(request) { chunk in
            body += chunk
            return true
        }
        return (status, body)
    }

    /// ``perform(_:)`` on a thread of its own, for async callers: the blocking transfer never holds a Swift-concurrency
    /// thread.
    public static func performDetached(_ request: HTTPRequest) async throws(TransportError) -> (status: Int, body: [UInt8]) {
        let result = await OSThread.result { () throws(TransportError) -> (status: Int, body: [UInt8]) in try perform(request) }
        return try result.get()
    }

    /// Performs `request`, handing the body to `onData` as it arrives (watches); `onData` returns false to stop.
    /// Returns the HTTP status.
    public static func stream(_ request: HTTPRequest, onData: @escaping ([UInt8]) -> Bool) throws(TransportError) -> Int {
        guard let handle = multinic_curl_easy_init() else { throw TransportError("libcurl could not start (is libcurl4 installed?)") }
        defer { multinic_curl_easy_cleanup(handle) }
        let sink = Sink(onData)
        var headers: UnsafeMutablePointer<curl_slist>? = multinic_curl_slist_append(nil, "Expect:")
        for header in request.headers { headers = multinic_curl_slist_append(headers, header) }
        defer { multinic_curl_slist_free_all(headers) }
        var connectTo: UnsafeMutablePointer<curl_slist>?
        for entry in request.connectTo { connectTo = multinic_curl_slist_append(connectTo, entry) }
        defer { multinic_curl_slist_free_all(connectTo) }
        if connectTo != nil { _ = multinic_curl_set_pointer(handle, CURLOPT_CONNECT_TO, connectTo) }
        switch request.endpoint {
        case .unixSocket(let path):
            _ = multinic_curl_set_string(handle, CURLOPT_UNIX_SOCKET_PATH, path)
            _ = multinic_curl_set_string(handle, CURLOPT_URL, "http://localhost" + request.path)
        case .url(let base):
            _ = multinic_curl_set_string(handle, CURLOPT_URL, base + request.path)
        }
        if let file = request.tls.caFile { _ = multinic_curl_set_string(handle, CURLOPT_CAINFO, file) }
        if let file = request.tls.clientCertificateFile { _ = multinic_curl_set_string(handle, CURLOPT_SSLCERT, file) }
        if let file = request.tls.clientKeyFile { _ = multinic_curl_set_string(handle, CURLOPT_SSLKEY, file) }
        if request.tls.skipVerification {
            _ = multinic_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            _ = multinic_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        _ = multinic_curl_set_long(handle, CURLOPT_TIMEOUT, request.timeoutSeconds)
        _ = multinic_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT, 10)
        _ = multinic_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = multinic_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headers)
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        _ = multinic_curl_set_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        _ = multinic_curl_set_write_function(handle) { data, size, count, context in
            guard let data, let context else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
            let length = size * count
            let chunk = data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
            return sink.deliver(chunk) ? length : 0
        }
        // A body always goes as POST fields (with CUSTOMREQUEST for PUT/PATCH/DELETE): libcurl never reads stdin.
        let body = request.body ?? (request.method == "POST" ? [] : nil)
        let code: CURLcode = (body ?? [0]).withUnsafeBufferPointer { buffer in
            if request.method != "GET" && request.method != "POST" {
                _ = multinic_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            }
            if let body {
                _ = multinic_curl_set_long(handle, CURLOPT_POST, 1)
                _ = multinic_curl_set_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
                _ = multinic_curl_set_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            return multinic_curl_easy_perform(handle)
        }
        // A stop asked for by `onData` ends the transfer with a write error: that is not a failure.
        guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && sink.stopped) else {
            throw TransportError(String(cString: multinic_curl_easy_strerror(code)))
        }
        var status = 0
        _ = multinic_curl_get_status(handle, &status)
        return status
    }

    /// Receives the body chunks.
    private final class Sink {
        let onData: ([UInt8]) -> Bool
        var stopped = false

        init(_ onData: @escaping ([UInt8]) -> Bool) { self.onData = onData }

        func deliver(_ chunk: [UInt8]) -> Bool {
            if onData(chunk) { return true }
            stopped = true
            return false
        }
    }
}
