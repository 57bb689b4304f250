import Foundation
import Hummingbird
import MultiNICCore

/// The daemon's HTTP API (upstream-compatible paths and bodies), built once per listener.
public enum DaemonRouter {
    /// Who may change things through this listener.
    public enum Access: Sendable {
        /// The root-only unix socket: no token.
        case localSocket
        /// TCP: every request but health and metrics needs `Authorization: Bearer <token>` that `authenticator` accepts.
        case bearer(any DaemonAuthenticator)

        /// TCP with one shared token; `nil` refuses every request but health and metrics.
        public static func bearerToken(_ token: String?) -> Access { .bearer(StaticTokenAuthenticator(token: token)) }
    }

    /// Request body limits of one listener.
    public struct Limits: Sendable {
        /// Larger bodies are answered 413.
        public var maxBodyBytes: Int
        /// A body that takes longer to arrive is answered 408.
        public var bodyTimeoutSeconds: Int

        public init(maxBodyBytes: Int = 16 << 20, bodyTimeoutSeconds: Int = 10) {
            self.maxBodyBytes = maxBodyBytes
            self.bodyTimeoutSeconds = bodyTimeoutSeconds
        }
    }

    /// Paths anyone who reaches the TCP port may ask: probes and metrics (which carry no pod names or addresses).
    static let publicPaths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    public static func build(_ services: DaemonServices, access: Access, limits: Limits = Limits()) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: ErrorMiddleware(metrics: services.metrics))
        if case .bearer(let authenticator) = access { router.add(middleware: BearerTokenMiddleware(authenticator: authenticator)) }
        let decode = BodyDecoder(limits: limits)

        router.get("/healthz") { _, _ in plain("ok") }
        // Ready once serving (its journal is loaded before the listener opens): a node without any network's pools
        // is a normal state, and a DaemonSet rollout waits on every node for a Ready pod.
        router.get("/readyz") { _, _ in
            services.status().pools.isEmpty ? plain("ok: no pools yet") : plain("ok")
        }
        router.get("/metrics") { _, _ in plain(services.metricsText(), contentType: "text/plain; version=0.0.4") }
        router.get(RouterPath(DaemonAPI.statusPath)) { _, _ in try json(services.status()) }
        router.on(RouterPath(DaemonAPI.interfacePath), method: .get) { _, _ in try json(services.interfaces()) }
        router.on(RouterPath(DaemonAPI.interfacePath), method: .post) { _, _ in try json(services.interfaces()) }

        router.post(RouterPath(DaemonAPI.selectPath)) { request, context in
            let query = await services.withDevices(try DaemonWire.query(try await decode(SelectRequest.self, request, context)))
            if let devices = query.devices { context.logger.info("\(DaemonServices.describe(devices, for: query))") }
            return try json(DaemonWire.selection(try services.select(query), devices: query.devices))
        }
        router.post(RouterPath(DaemonAPI.allocatePath)) { request, context in
            let addresses = try DaemonWire.addresses(try await decode(AllocateRequest.self, request, context))
            return try json(DaemonWire.allocations(try await services.allocate(addresses)))
        }
        router.post(RouterPath(DaemonAPI.deallocatePath)) { request, context in
            let wire = try await decode(AllocateRequest.self, request, context)
            return try json(DaemonWire.allocations(try await services.release(
                network: wire.def, containerID: DaemonWire.containerID(wire), ifNames: wire.ifNames ?? [])))
        }
        router.post(RouterPath(DaemonAPI.attachPath)) { request, context in
            let attachment = try DaemonWire.attachment(try await decode(AttachRequest.self, request, context))
            let (nics, devices) = try await services.attachWithDevices(attachment)
            if let devices { context.logger.info("\(DaemonServices.describe(devices, for: attachment.query))") }
            return try json(AttachResponse(nics: nics, devices: devices))
        }
        router.post(RouterPath(DaemonAPI.detachPath)) { request, context in
            let detachment = DaemonWire.detachment(try await decode(DetachRequest.self, request, context))
            return try json(AttachResponse(nics: try await services.detach(detachment)))
        }
        router.post(RouterPath(DaemonAPI.leasesPath)) { request, context in
            let query = try await decode(LeaseQuery.self, request, context)
            return try json(DaemonWire.allocations(try await services.leases(
                network: query.network, containerID: query.containerID, attachment: query.ifName, namespace: query.namespace,
                pod: query.pod, claims: query.claims ?? [:])))
        }
        router.get(RouterPath(DaemonAPI.podLeasesPath)) { _, _ in try json(services.podLeases()) }
        router.post(RouterPath(DaemonAPI.releasePodsPath)) { request, context in
            let wire = try await decode(PodReleaseRequest.self, request, context)
            return try json(DaemonWire.allocations(try await services.releasePods(wire.podUIDs, podNames: wire.podNames ?? [],
                                                                                      snapshotTakenAt: wire.snapshotTakenAt)))
        }
        router.post(RouterPath(DaemonAPI.gcPath)) { request, context in
            let wire = try await decode(GCRequest.self, request, context)
            return try json(DaemonWire.allocations(try await services.garbageCollect(network: wire.network,
                                                                                     valid: DaemonWire.validKeys(wire))))
        }
        router.post(RouterPath(DaemonAPI.addL3Path)) { request, context in
            let wire = try await decode(L3Request.self, request, context)
            return try l3 { () throws(DaemonError) in
                let routes = try DaemonWire.networkRoutes(wire)
                return services.setRoutes(network: routes.name, subnet: routes.subnet, routes: routes.routes)
            }
        }
        router.post(RouterPath(DaemonAPI.deleteL3Path)) { request, context in
            try json(services.deleteRoutes(network: try await decode(L3Request.self, request, context).name))
        }
        for (path, delete) in [(DaemonAPI.addRoutePath, false), (DaemonAPI.deleteRoutePath, true)] {
            router.post(RouterPath(path)) { request, context in
                let wire = try await decode(L3Route.self, request, context)
                return try l3 { () throws(DaemonError) in services.mainTableRoute(try DaemonWire.desiredRoute(wire), delete: delete) }
            }
        }
        router.put(RouterPath(DaemonAPI.poolsPath)) { request, context in
            let refused = try await services.setPools(try await decode([IPPool].self, request, context))
            for sentence in refused { context.logger.warning("adoption refused: \(sentence)") }
            return try json(services.status())
        }
        router.put(RouterPath(DaemonAPI.deviceClassesPath)) { request, context in
            services.setDeviceClasses(try await decode([DeviceClass].self, request, context))
            return plain("ok")
        }
        // Upstream's neighbour warm-up: accepted and answered, nothing else to do (routes are static).
        router.post(RouterPath(DaemonAPI.joinPath)) { _, _ in try json("") }
        router.post(RouterPath(DaemonAPI.greetPath)) { _, _ in try json("") }
        return router
    }


    /// Upstream's route calls answer a bad route as `{success: false, msg}`, not as an HTTP error.
    static func l3(_ body: () throws(DaemonError) -> L3Response) throws -> Response {
        let answer: L3Response
        do throws(DaemonError) {
            answer = try body()
        } catch {
            answer = L3Response(success: false, msg: error.description)
        }
        return try json(answer)
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func plain(_ text: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Maps every error to a status and `{"error": "..."}` once, and records request latency.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: DaemonMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as DaemonError {
            response = Self.errorResponse(status: error.status, message: error.description)
        } catch let error as HTTPError {
            response = Self.errorResponse(status: error.status.code, message: error.body ?? error.status.reasonPhrase)
        } catch {
            response = Self.errorResponse(status: 500, message: "\(error)")
        }
        let elapsed = clock.now - start
        // Labelled by the route that matched (a fixed set; Hummingbird names unmatched requests "NotFound"), never by
        // the raw path a client sent.
        metrics.observe(path: context.endpointPath ?? "NotFound", seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                        status: response.status.code)
        return response
    }

    static func errorResponse(status: Int, message: String) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let body = (try? encoder.encode(DaemonErrorBody(error: message))) ?? Data()
        return Response(status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// TCP: every request but the probes and metrics needs the bearer token — reads too (leases and pod lists name pods and
/// addresses); nothing runs without it.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let authenticator: any DaemonAuthenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if !(request.method == .get && DaemonRouter.publicPaths.contains(request.uri.path)) {
            let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            guard let presented, !presented.isEmpty, presented.utf8.count <= 8192, await authenticator.authenticate(presented) else {
                throw DaemonError.unauthorized
            }
        }
        return try await next(request, context)
    }
}
