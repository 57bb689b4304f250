import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import MultiNICCore
import NIOSSL
import Synchronization

/// A node daemon's TCP API played by the test (no kernel changes): TLS with the operator's serving pair, two NICs on
/// `/interface`, and success for pools, routes, leases and releases. Records the paths it was called on.
final class StandInDaemon: Sendable {
    let task: Task<Void, any Error>
    let calls = RequestPaths()
    /// The NICs `/interface` reports (the test may add one, as a node whose NICs change).
    let interfaces = NICs([
        InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.10", vendor: "15b3", product: "1017", pciAddress: "0000:3b:00.0"),
        InterfaceInfo(interfaceName: "eth2", netAddress: "10.0.2.0/24", hostIP: "10.0.2.10", vendor: "15b3", product: "1017", pciAddress: "0000:3b:00.1"),
    ])

    final class NICs: Sendable {
        private let list: Mutex<[InterfaceInfo]>
        init(_ list: [InterfaceInfo]) { self.list = Mutex(list) }
        func withLock<T>(_ body: (inout [InterfaceInfo]) -> T) -> T { list.withLock { body(&$0) } }
    }

    final class RequestPaths: Sendable {
        private let paths = Mutex<[String]>([])
        func append(_ path: String) { paths.withLock { $0.append(path) } }
        var all: [String] { paths.withLock { $0 } }
    }

    init(port: Int, certificate: String, key: String) throws {
        let router = Router()
        let calls = calls
        let interfaces = interfaces
        router.get(RouterPath(DaemonAPI.interfacePath)) { request, _ in
            calls.append(request.uri.path)
            return try json(interfaces.withLock { $0 })
        }
        router.put(RouterPath(DaemonAPI.poolsPath)) { request, _ in
            calls.append(request.uri.path)
            return try json(DaemonStatus(node: "n1", pools: [], routesInSync: [:], degraded: []))
        }
        for path in [DaemonAPI.addL3Path, DaemonAPI.deleteL3Path] {
            router.post(RouterPath(path)) { request, _ in
                calls.append(request.uri.path)
                return try json(L3Response(success: true, msg: ""))
            }
        }
        router.get(RouterPath(DaemonAPI.podLeasesPath)) { request, _ in
            calls.append(request.uri.path)
            // One pod long gone: the operator's sweep asks the API server about it and releases its address.
            return try json(PodLeaseSnapshot(takenAt: Date().timeIntervalSince1970 - 120, pods: [
                PodLeases(namespace: "default", name: "gone", uid: "uid-gone", addresses: ["192.168.0.5"])]))
        }
        router.post(RouterPath(DaemonAPI.releasePodsPath)) { request, _ in
            calls.append(request.uri.path)
            return try json([IPAllocation]())
        }
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain,
                                                          privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem)))
        var quiet = Logger(label: "stand-in-daemon")
        quiet.logLevel = .critical
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: quiet)
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
    }

    func stop() { task.cancel() }
}

private func json(_ value: some Encodable) throws -> Response {
    Response(status: .ok, headers: [.contentType: "application/json"],
             body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(try JSONEncoder().encode(value)))))
}
