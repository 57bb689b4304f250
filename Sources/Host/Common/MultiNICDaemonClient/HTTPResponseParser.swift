/// Reads one HTTP/1.1 response as its bytes arrive: the status line, the headers, then a body framed by
/// `Content-Length`, by `Transfer-Encoding: chunked`, or by the end of the connection. Pure: no I/O.
struct ResponseParser {
    typealias Failure = UnixHTTPExchange.Failure

    private enum Framing: Equatable {
        case length(Int)
        case chunked
        case untilClose
    }

    private var pending: [UInt8] = []
    private var status: Int?
    private var framing: Framing?
    private var body: [UInt8] = []
    /// While chunked: the bytes left in the current chunk (nil: a size line comes next).
    private var chunkRemaining: Int?
    private(set) var isComplete = false

    /// Takes the next bytes off the connection.
    mutating func consume(_ bytes: ArraySlice<UInt8>) throws(Failure) {
        pending += bytes
        guard pending.count <= UnixHTTPExchange.maximumResponseBytes + 65_536 else {
            throw Failure("answer larger than \(UnixHTTPExchange.maximumResponseBytes) bytes")
        }
        if framing == nil { try readHead() }
        if framing != nil { try readBody() }
    }

    /// The connection ended: complete when the body was framed by it, an error when the answer was cut short.
    mutating func finish() throws(Failure) {
        guard !isComplete else { return }
        guard framing == .untilClose else { throw Failure("the connection closed before the answer was complete") }
        body += pending
        pending = []
        isComplete = true
    }

    func result() throws(Failure) -> (status: Int, body: [UInt8]) {
        guard isComplete, let status else { throw Failure("the connection closed before the answer was complete") }
        return (status, body)
    }

    private mutating func readHead() throws(Failure) {
        guard let end = Self.find([13, 10, 13, 10], in: pending) else {
            guard pending.count <= 65_536 else { throw Failure("answer headers longer than 64 KiB") }
            return
        }
        let head = String(decoding: pending[0..<end], as: UTF8.self)
        pending.removeFirst(end + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        let statusLine = lines.popFirst().map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]),
              (100...599).contains(code) else {
            throw Failure("not an HTTP/1.1 answer: \(statusLine.prefix(80))")
        }
        var length: Int?
        var chunked = false
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces()
            if name == "content-length" {
                guard let parsed = Int(value), parsed >= 0, parsed <= UnixHTTPExchange.maximumResponseBytes else {
                    throw Failure("bad or too large Content-Length: \(value.prefix(40))")
                }
                length = parsed
            } else if name == "transfer-encoding" {
                chunked = value.lowercased().hasSuffix("chunked")
            }
        }
        if code / 100 == 1 { // an interim answer (100 Continue): the real one follows
            return try readHeadAgainIfBuffered()
        }
        status = code
        framing = chunked ? .chunked : length.map(Framing.length) ?? (code == 204 || code == 304 ? .length(0) : .untilClose)
    }

    private mutating func readHeadAgainIfBuffered() throws(Failure) {
        if !pending.isEmpty { try readHead() }
    }

    private mutating func readBody() throws(Failure) {
        switch framing {
        case .length(let total):
            let take = min(total - body.count, pending.count)
            body += pending[0..<take]
            pending.removeFirst(take)
            if body.count == total { isComplete = true }
        case .chunked:
            try readChunks()
        case .untilClose, nil:
            body += pending
            pending = []
            guard body.count <= UnixHTTPExchange.maximumResponseBytes else {
                throw Failure("answer larger than \(UnixHTTPExchange.maximumResponseBytes) bytes")
            }
        }
    }

    private mutating func readChunks() throws(Failure) {
        while !isComplete {
            if let remaining = chunkRemaining {
                // The chunk's data, then its CRLF.
                guard pending.count >= remaining + 2 else {
                    let take = min(remaining, pending.count)
                    body += pending[0..<take]
                    pending.removeFirst(take)
                    chunkRemaining = remaining - take
                    return
                }
                body += pending[0..<remaining]
                guard pending[remaining] == 13, pending[remaining + 1] == 10 else { throw Failure("malformed chunk") }
                pending.removeFirst(remaining + 2)
                chunkRemaining = nil
                guard body.count <= UnixHTTPExchange.maximumResponseBytes else {
                    throw Failure("answer larger than \(UnixHTTPExchange.maximumResponseBytes) bytes")
                }
            } else {
                guard let end = Self.find([13, 10], in: pending) else {
                    guard pending.count <= 1024 else { throw Failure("malformed chunk size line") }
                    return
                }
                let line = String(decoding: pending[0..<end], as: UTF8.self)
                let digits = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingSpaces() } ?? ""
                guard !digits.isEmpty, digits.count <= 8, let size = Int(digits, radix: 16) else {
                    throw Failure("malformed chunk size: \(line.prefix(40))")
                }
                pending.removeFirst(end + 2)
                if size == 0 {
                    // The last chunk; trailers (ignored) end with an empty line.
                    guard Self.find([13, 10], in: pending) != nil else {
                        pending.insert(contentsOf: Array("0\r\n".utf8), at: 0)
                        return
                    }
                    isComplete = true
                } else {
                    chunkRemaining = size
                }
            }
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}

private extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
