#if canImport(Glibc)
import Glibc
#endif
import CMNL
import Synchronization

/// An rtnetlink socket (libmnl). Requests are serialised by a lock; the socket belongs to the network namespace
/// it was opened in (see ``NetworkNamespace``).
final class NetlinkSocket: @unchecked Sendable {
    // @unchecked: `socket` is only used under `lock`, and closed in deinit.
    private let socket: OpaquePointer
    private let portID: UInt32
    private let lock = Mutex<UInt32>(UInt32(truncatingIfNeeded: time(nil)))
    static let receiveBufferSize = 1 << 16

    /// Opens and binds a NETLINK_ROUTE socket in the calling thread's network namespace.
    init(groups: UInt32 = 0) throws(NetlinkError) {
        guard let socket = mnl_socket_open(NETLINK_ROUTE) else {
            throw .socket("open: \(NetlinkError.text(errno))")
        }
        guard mnl_socket_bind(socket, groups, pid_t(MNL_SOCKET_AUTOPID)) >= 0 else {
            let code = errno
            mnl_socket_close(socket)
            throw .socket("bind: \(NetlinkError.text(code))")
        }
        var size: Int32 = 1 << 22
        _ = setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        self.socket = socket
        portID = mnl_socket_get_portid(socket)
    }

    deinit {
        mnl_socket_close(socket)
    }

    /// The file descriptor (for poll in event loops).
    var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    /// Sends a dump request built by `build` and hands every answer message to `handle`. With `dump: false` it is a
    /// plain get (one object named by the request's attributes): one answer, or the kernel's error.
    func dump(_ build: (UnsafeMutablePointer<nlmsghdr>) -> Void, dump: Bool = true,
              handle: (UnsafePointer<nlmsghdr>) -> Void) throws(NetlinkError) {
        try lock.withLock { (sequence: inout UInt32) throws(NetlinkError) in
            sequence &+= 1
            let current = sequence
            var request = [UInt8](repeating: 0, count: 1024)
            let sent = request.withUnsafeMutableBytes { raw -> Int in
                guard let header = mnl_nlmsg_put_header(raw.baseAddress) else { return -1 }
                header.pointee.nlmsg_flags = UInt16(dump ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST)
                header.pointee.nlmsg_seq = current
                build(header)
                return mnl_socket_sendto(socket, header, Int(header.pointee.nlmsg_len))
            }
            guard sent >= 0 else { throw .send(errno: errno) }
            var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
            var done = false
            while !done {
                let received = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
                guard received >= 0 else { throw .receive(errno: errno) }
                var failure: Int32 = 0
                buffer.withUnsafeBytes { raw in
                    Self.forEachMessage(raw, count: received) { message in
                        guard message.pointee.nlmsg_seq == current else { return true }
                        switch Int32(message.pointee.nlmsg_type) {
                        case NLMSG_DONE:
                            done = true
                            return false
                        case NLMSG_ERROR:
                            let error = Self.errorCode(message)
                            if error != 0 { failure = error }
                            done = true
                            return false
                        default:
                            handle(message)
                            // A get's answer is one message, not part of a multipart dump.
                            if Int32(message.pointee.nlmsg_flags) & NLM_F_MULTI == 0 { done = true }
                            return true
                        }
                    }
                }
                if failure != 0 { throw .kernel(errno: failure, request: "dump") }
            }
        }
    }

    /// Sends requests (each acknowledged) in as few writes as fit, and returns the errno of every request the
    /// kernel refused, by position. Requests are sent in chunks so the acknowledgements never overflow the socket.
    func transact(_ builders: [(UnsafeMutablePointer<nlmsghdr>) -> Void]) throws(NetlinkError) -> [Int: Int32] {
        try lock.withLock { (sequence: inout UInt32) throws(NetlinkError) -> [Int: Int32] in
            var failures: [Int: Int32] = [:]
            let chunk = 512
            var start = 0
            while start < builders.count {
                let end = min(start + chunk, builders.count)
                let base = sequence &+ 1
                sequence &+= UInt32(end - start)
                var buffer = [UInt8](repeating: 0, count: (end - start) * 256)
                let sent = buffer.withUnsafeMutableBytes { raw -> Int in
                    guard let bufferStart = raw.baseAddress else { return -1 }
                    var offset = 0
                    for position in start..<end {
                        guard let header = mnl_nlmsg_put_header(bufferStart + offset) else { return -1 }
                        header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST | NLM_F_ACK)
                        header.pointee.nlmsg_seq = base &+ UInt32(position - start)
                        builders[position](header)
                        offset += (Int(header.pointee.nlmsg_len) + 3) & ~3
                    }
                    return mnl_socket_sendto(socket, bufferStart, offset)
                }
                guard sent >= 0 else { throw .send(errno: errno) }
                var pending = end - start
                var receiveBuffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
                while pending > 0 {
                    let received = receiveBuffer.withUnsafeMutableBytes {
                        mnl_socket_recvfrom(socket, $0.baseAddress, $0.count)
                    }
                    guard received >= 0 else { throw .receive(errno: errno) }
                    receiveBuffer.withUnsafeBytes { raw in
                        Self.forEachMessage(raw, count: received) { message in
                            guard Int32(message.pointee.nlmsg_type) == NLMSG_ERROR else { return true }
                            let index = Int(message.pointee.nlmsg_seq &- base)
                            guard index >= 0 && index < end - start else { return true }
                            let error = Self.errorCode(message)
                            if error != 0 { failures[start + index] = error }
                            pending -= 1
                            return true
                        }
                    }
                }
                start = end
            }
            return failures
        }
    }

    /// Reads whatever arrives (for event subscriptions); returns false on timeout.
    func receive(timeoutMilliseconds: Int32, handle: (UnsafePointer<nlmsghdr>) -> Void) throws(NetlinkError) -> Bool {
        var poller = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, timeoutMilliseconds)
        if ready == 0 { return false }
        guard ready > 0 else { throw .receive(errno: errno) }
        var buffer = [UInt8](repeating: 0, count: Self.receiveBufferSize)
        let received = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
        guard received >= 0 else { throw .receive(errno: errno) }
        buffer.withUnsafeBytes { raw in
            Self.forEachMessage(raw, count: received) { message in
                handle(message)
                return true
            }
        }
        return true
    }

    /// Calls `body` for each netlink message in `raw[0..<count]` until it returns false.
    private static func forEachMessage(_ raw: UnsafeRawBufferPointer, count: Int,
                                       _ body: (UnsafePointer<nlmsghdr>) -> Bool) {
        guard let base = raw.baseAddress else { return }
        var remaining = Int32(count)
        var message = base.assumingMemoryBound(to: nlmsghdr.self)
        while mnl_nlmsg_ok(message, remaining) {
            if !body(message) { return }
            message = UnsafePointer(mnl_nlmsg_next(message, &remaining))
        }
    }

    /// The (positive) errno of an NLMSG_ERROR message; 0 for an acknowledgement.
    private static func errorCode(_ message: UnsafePointer<nlmsghdr>) -> Int32 {
        guard let payload = mnl_nlmsg_get_payload(message) else { return EINVAL }
        return -payload.assumingMemoryBound(to: nlmsgerr.self).pointee.error
    }
}
