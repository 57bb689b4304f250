#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import HummingbirdCore
#if MULTINIC_TLS
import HummingbirdTLS
import NIOSSL
#endif
import Logging
import MultiNICCore
import MultiNICDRA
import MultiNICKube
import MultiNICNetlink
import MultiNICPluginHost
import ServiceLifecycle

/// Starts the daemon: the root-only unix socket for the CNI binary and TCP (with a bearer token) for the
/// operator, until SIGTERM/SIGINT.
public enum DaemonServer {
    /// Opens everything the configuration names and serves until terminated.
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        // Before the first lease: a lease table's growth must not leave holes that pin the arenas (see MemoryTrim).
        MemoryTrim.fixMapThreshold()
        let loaded = try PluginRegistry.load(directory: configuration.pluginsDirectory)
        for error in loaded.errors { logger.warning("plugin not loaded: \(error)") }
        var mirror: (any AllocationMirror)?
        if configuration.ippoolMirror == "kubernetes" {
            mirror = KubeAllocationMirror(client: KubeClient(config: try kubeConfig(configuration), qps: 5, burst: 10))
        }
        var claims: (any IPAMClaimSource)?
        if configuration.ipamClaims {
            claims = KubeIPAMClaimSource(client: KubeClient(config: try kubeConfig(configuration), qps: 20, burst: 40))
        }
        var resourceClaims: (any ResourceClaimSource)?
        if configuration.draDriver != nil {
            resourceClaims = KubeResourceClaimSource(client: KubeClient(config: try kubeConfig(configuration)))
        }
        let services = try DaemonServices(configuration: configuration, netlink: try LinuxNetlink(), registry: loaded.registry,
                                          mirror: mirror, claimSource: claims, resourceClaimSource: resourceClaims)
        logger.info("IPAM journal recovered", metadata: ["records": "\(services.ipam.recoveredRecords)",
                                                       "tornBytes": "\(services.ipam.tornBytes)",
                                                       "leases": "\(services.ipam.current.leases.count)"])
        // Drift repair: route/rule changes in our tables trigger a re-convergence; link and address changes
        // refresh discovery.
        let events = try RouteEvents()
        events.start { [services] event in services.notice(event) }
        defer { events.stop() }
        if let poolsFile = configuration.poolsFile {
            let data = try Data(contentsOf: URL(fileURLWithPath: poolsFile))
            try await services.setPools(try JSONDecoder().decode([IPPool].self, from: data))
        }
        // Releases a DEL queued while this daemon was down: now, then periodically.
        let replay = Task { [services] in
            while !Task.isCancelled {
                let report = await services.replayPendingReleases()
                if report.replayed + report.unreadable.count + report.failed.count > 0 {
                    logger.notice("pending releases replayed", metadata: [
                        "replayed": "\(report.replayed)", "released": "\(report.released)",
                        "unreadable": "\(report.unreadable)", "failed": "\(report.failed)"])
                }
                await services.sweepClaims()
                let waiting = await services.retryCloudUnassigns()
                if waiting > 0 { logger.warning("cloud unassignments still failing", metadata: ["addresses": "\(waiting)"]) }
                try? await Task.sleep(for: .seconds(configuration.releaseReplaySeconds))
            }
        }
        defer { replay.cancel() }
        // DRA mode: the node's NICs as ResourceSlices, kept up to date.
        var slices: Task<Void, Never>?
        if let driver = configuration.draDriver {
            let publisher = ResourceSlicePublisher(client: KubeClient(config: try kubeConfig(configuration), qps: 5, burst: 10), driver: driver,
                                                   node: configuration.nodeName)
            slices = Task { [services] in
                while !Task.isCancelled {
                    do {
                        let outcome = try await publisher.publish(try services.draDevices())
                        if !outcome.unchanged {
                            logger.info("ResourceSlices published", metadata: ["generation": "\(outcome.generation)",
                                                                               "written": "\(outcome.written)", "deleted": "\(outcome.deleted)"])
                        }
                    } catch {
                        logger.warning("ResourceSlices not published: \(error)")
                    }
                    try? await Task.sleep(for: .seconds(configuration.draPublishSeconds))
                }
            }
        }
        defer { slices?.cancel() }
        // A condition, not `canImport`: a gRPC module left in .build by a full build must not switch this on in the
        // lab's build, which leaves the plugin out of MultiNICDRA.
        #if MULTINIC_GRPC
        // DRA mode: the kubelet plugin (registration and DRA sockets) preparing this driver's claims.
        var kubeletPlugin: DRAKubeletPlugin?
        if let driver = configuration.draDriver {
            let handler = DaemonDRAHandler(services: services, driver: driver)
            let plugin = DRAKubeletPlugin(driver: driver, paths: .init(driver: driver, registryDirectory: configuration.kubeletRegistryDirectory,
                                                                       pluginsDirectory: configuration.kubeletPluginsDirectory), handler: handler)
            try await plugin.start()
            kubeletPlugin = plugin
            logger.info("DRA kubelet plugin serving", metadata: ["registration": "\(plugin.paths.registrationSocket)",
                                                                "plugin": "\(plugin.paths.pluginSocket)"])
        }
        defer { if let kubeletPlugin { Task { await kubeletPlugin.stop() } } }
        #endif
        var applications: [any Service] = []
        try prepareSocket(configuration.socketPath)
        let socketPath = configuration.socketPath
        let limits = DaemonRouter.Limits(maxBodyBytes: configuration.maxBodyBytes, bodyTimeoutSeconds: configuration.bodyTimeoutSeconds)
        // Each listener has its own connection cap and idle timeout: connections without a complete request head
        // (slowloris) or idle between requests are closed, and a flood on TCP leaves the CNI socket served.
        let server = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds))))
        applications.append(Application(
            router: DaemonRouter.build(services, access: .localSocket, limits: limits), server: server,
            configuration: ApplicationConfiguration(address: .unixDomainSocket(path: socketPath), serverName: "multi-nicd",
                                                    availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { _ in _ = chmod(socketPath, 0o600) }, logger: logger))
        if configuration.port > 0 {
            let access = try tcpAccess(configuration, logger: logger)
            let tcpServer = try tcpServerBuilder(configuration, plain: server, logger: logger)
            applications.append(Application(
                router: DaemonRouter.build(services, access: access, limits: limits), server: tcpServer,
                configuration: ApplicationConfiguration(address: .hostname(configuration.bindAddress, port: configuration.port),
                                                        serverName: "multi-nicd",
                                                        availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
                logger: logger))
        }
        let group = ServiceGroup(configuration: .init(services: applications.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// How the daemon reaches the API (IPPool mirror, TokenReview, IPAMClaims, DRA): `--kubeconfig`, else the pod's
    /// service account.
    static func kubeConfig(_ configuration: DaemonConfiguration) throws -> KubeConfig {
        try configuration.kubeconfig.map { try KubeConfig.kubeconfig(path: $0) } ?? KubeConfig.inCluster()
    }

    /// Who may call over TCP: service-account tokens confirmed by TokenReview (a cluster), else the token file's one
    /// token, else nobody (health and metrics only).
    static func tcpAccess(_ configuration: DaemonConfiguration, logger: Logger) throws -> DaemonRouter.Access {
        if !configuration.tokenReviewUsers.isEmpty {
            let audience = DaemonAudience.of(node: configuration.nodeName)
            logger.info("TCP callers authenticated by TokenReview", metadata: ["audience": "\(audience)",
                                                                            "users": "\(configuration.tokenReviewUsers)"])
            return .bearer(TokenReviewAuthenticator(client: KubeClient(config: try kubeConfig(configuration), qps: 5, burst: 10), audience: audience,
                                                    allowedUsers: Set(configuration.tokenReviewUsers)))
        }
        let token = try configuration.tokenFile.map { path throws in try DaemonToken.read(path) }
        if token == nil { logger.warning("no --token-file or --token-review-user: every request over TCP but /healthz, /readyz and /metrics is refused") }
        return .bearerToken(token)
    }

    /// HTTP/1.1, over TLS when a serving certificate is configured (a bearer token must not cross the network in clear).
    static func tcpServerBuilder(_ configuration: DaemonConfiguration, plain: HTTPServerBuilder, logger: Logger) throws -> HTTPServerBuilder {
        guard let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile else {
            if !configuration.tokenReviewUsers.isEmpty || configuration.tokenFile != nil {
                logger.warning("TCP without --tls-cert: bearer tokens cross the network in clear")
            }
            return plain
        }
        try DaemonToken.requirePrivate(key, what: "TLS key")
        #if MULTINIC_TLS
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            // Loaded here as PEM: NIOSSL would guess the format of a `.key` file from its extension.
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain,
                                                               privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            return try HTTPServerBuilder.tls(.http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
                                             tlsConfiguration: tls)
        } catch {
            throw DaemonError.failure("cannot use --tls-cert \(certificate) / --tls-key \(key): \(error)")
        }
        #else
        throw DaemonError.failure("this multi-nicd was built without TLS (MULTINIC_WITHOUT_TLS=1, the main job's quick lab build): "
                                  + "build it again without that variable to use --tls-cert")
        #endif
    }

    /// Creates the socket's directory and removes a stale socket left by a previous run.
    static func prepareSocket(_ path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
    }
}

/// The bearer token file: read once at start; an empty or short token, or a file that group or others may read or
/// write, is an error (not a silently open or guessable TCP listener).
public enum DaemonToken {
    public static func read(_ path: String) throws(DaemonError) -> String {
        try requirePrivate(path, what: "token file")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .failure("token file \(path) cannot be read") }
        let token = text.trimmedWhitespace
        guard token.utf8.count >= 16 else { throw .failure("token file \(path) holds no token of at least 16 characters") }
        return token
    }

    /// A secret file (token, TLS key) that group or others may read or write is refused.
    public static func requirePrivate(_ path: String, what: String) throws(DaemonError) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .failure("\(what) \(path): " + String(cString: strerror(errno))) }
        // A Kubernetes Secret volume is 0644 by default: the DaemonSet sets defaultMode 0400.
        guard info.st_mode & 0o077 == 0 else {
            throw .failure("\(what) \(path) is readable or writable by group or others (mode \(String(info.st_mode & 0o777, radix: 8)));"
                + " make it 0600 or 0400")
        }
    }
}
