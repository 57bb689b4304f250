import Foundation
import Synchronization

/// A unix-socket proxy in front of a gRPC server that behaves, at the HTTP/2 frame level, as grpc-go does with its
/// default options (the kubelet's PodResources server): a PING before each response (BDP probing). The acks of
/// those PINGs are answered here, not passed on to the server.
final class PingingKubeletProxy: Sendable {
    let socketPath: String
    let upstreamPath: String
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    /// PINGs sent to clients so far.
    let pings = Atomic<Int>(0)
    /// Client connections accepted so far.
    let connections = Atomic<Int>(0)
    static let pingPayload: [UInt8] = [0x62, 0x64, 0x70, 0x2d, 0x70, 0x72, 0x6f, 0x62]  // "bdp-prob"

    init(socketPath: String, upstreamPath: String) throws {
        self.socketPath = socketPath
        self.upstreamPath = upstreamPath
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.address(socketPath)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        Thread { [self] in acceptLoop() }.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(socketPath)
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (offset, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[offset] = byte }
        }
        return address
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let server = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.address(upstreamPath)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            connections.wrappingAdd(1, ordering: .relaxed)
            let closeOnce = Atomic<Bool>(false)
            let finish: @Sendable () -> Void = {
                guard !closeOnce.exchange(true, ordering: .relaxed) else { return }
                shutdown(client, Int32(SHUT_RDWR))
                shutdown(server, Int32(SHUT_RDWR))
            }
            let bothDone = Atomic<Int>(0)
            let release: @Sendable () -> Void = {
                if bothDone.wrappingAdd(1, ordering: .relaxed).newValue == 2 {
                    close(client)
                    close(server)
                }
            }
            Thread { [self] in
                toClient(from: server, to: client)
                finish()
                release()
            }.start()
            Thread {
                Self.toServer(from: client, to: server)
                finish()
                release()
            }.start()
        }
    }

    /// Server → client: a PING before every response HEADERS (a HEADERS frame without END_STREAM on a stream).
    private func toClient(from server: Int32, to client: Int32) {
        while let frame = Self.readFrame(server) {
            let type = frame[3], flags = frame[4]
            let stream = (UInt32(frame[5] & 0x7f) << 24) | (UInt32(frame[6]) << 16) | (UInt32(frame[7]) << 8) | UInt32(frame[8])
            if type == 1, stream != 0, flags & 0x1 == 0 {
                guard Self.writeAll(client, [0, 0, 8, 6, 0, 0, 0, 0, 0] + Self.pingPayload) else { return }
                pings.wrappingAdd(1, ordering: .relaxed)
            }
            guard Self.writeAll(client, frame) else { return }
        }
    }

    /// Client → server: the connection preface, then every frame but the acks of this proxy's PINGs.
    private static func toServer(from client: Int32, to server: Int32) {
        guard let preface = readExactly(client, 24), writeAll(server, preface) else { return }
        while let frame = readFrame(client) {
            if frame[3] == 6, frame[4] & 0x1 != 0, Array(frame[9...]) == pingPayload { continue }
            guard writeAll(server, frame) else { return }
        }
    }

    private static func readFrame(_ descriptor: Int32) -> [UInt8]? {
        guard let header = readExactly(descriptor, 9) else { return nil }
        let length = (Int(header[0]) << 16) | (Int(header[1]) << 8) | Int(header[2])
        guard let payload = readExactly(descriptor, length) else { return nil }
        return header + payload
    }

    private static func readExactly(_ descriptor: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, count - done) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { return nil }
            done += got
        }
        return bytes
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            done += sent
        }
        return true
    }
}
