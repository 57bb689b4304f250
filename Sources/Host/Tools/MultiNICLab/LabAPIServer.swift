import Foundation
import Hummingbird
import Logging
import MultiNICCore

/// `multinicctl lab apiserver`: a ``LabObjectStore`` over HTTP, on a TCP address of the lab's primary network (the
/// daemons reach it through their kubeconfig) and on a unix socket (the lab itself, from outside the namespaces).
public enum LabAPIServer {
    /// A request body larger than this is refused (kube-apiserver's limit).
    static let maxBodyBytes = 3 << 20

    /// Serves until the process is terminated.
    public static func serve(host: String, port: Int, socket: String) async throws {
        let store = LabObjectStore()
        var quiet = Logger(label: "lab-apiserver")
        quiet.logLevel = .warning
        try? FileManager.default.removeItem(atPath: socket)
        let tcp = Application(router: router(store), configuration: .init(address: .hostname(host, port: port)), logger: quiet)
        let local = Application(router: router(store), configuration: .init(address: .unixDomainSocket(path: socket)),
                                onServerRunning: { _ in _ = chmod(socket, 0o600) }, logger: quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await tcp.runService() }
            group.addTask { try await local.runService() }
            try await group.next()
            group.cancelAll()
        }
    }

    static func router(_ store: LabObjectStore) -> Router<BasicRequestContext> {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post, .put, .delete] {
            router.on("/**", method: method) { request, _ in
                let body = method == .post || method == .put
                    ? Array(buffer: try await request.body.collect(upTo: maxBodyBytes)) : nil
                var query: [String: String] = [:]
                for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
                let (status, answer) = store.handle(method: method.rawValue, path: request.uri.path, query: query, body: body)
                return Response(status: .init(code: status), headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: answer.description)))
            }
        }
        return router
    }
}
