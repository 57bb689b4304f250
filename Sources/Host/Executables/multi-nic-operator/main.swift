// multi-nic-operator: the reconcilers on a real cluster. Kubernetes client over libcurl (in-cluster or kubeconfig),
// leader election on a Lease, daemons found through their DaemonSet's pods and called over TCP with the token,
// the Config CR turned into the daemon DaemonSet; /healthz, /readyz and /metrics for the kubelet and Prometheus.
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import MultiNICCertificates
import MultiNICController
import MultiNICCore
import MultiNICOperator
import MultiNICKube
import MultiNICPluginHost
import MultiNICRender

struct Operator: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "multi-nic-operator",
                                                    abstract: "Run the MultiNIC reconcilers against a Kubernetes cluster.")
    @Option(help: "kubeconfig file (default: in-cluster service account, else $KUBECONFIG or ~/.kube/config).") var kubeconfig: String?
    @Option(help: "Namespace of the daemon DaemonSet and the leader Lease (default: $POD_NAMESPACE).") var namespace: String?
    @Flag(help: "Elect a leader among replicas with a coordination.k8s.io Lease.") var leaderElect = false
    @Option(help: "Port of /healthz and /readyz.") var healthPort = 8081
    @Option(help: "Port of /metrics.") var metricsPort = 8080
    @Option(help: "Plugins directory (default: plugins.d next to the executable).") var pluginsDir: String?
    @Option(help: "How daemons know the operator: token-review (a short-lived service-account token per node audience) or token-file (one shared token).")
    var daemonAuth = "token-review"
    @Option(help: "With --daemon-auth token-file: the file with the daemons' bearer token.") var daemonTokenFile = "/etc/multi-nicd/token"
    @Option(help: "This operator's service account (default: $POD_SERVICE_ACCOUNT, else multi-nic-cni-operator).") var serviceAccount: String?
    @Flag(inversion: .prefixedNo, help: "Speak TLS to daemons, verified against the CA the operator keeps in the multi-nicd-ca Secret.")
    var daemonTLS = true
    @Option(help: "Daemon TCP port.") var daemonPort = 11000
    @Option(help: "Requests per second to the API server (bursts of twice that).") var qps = 20.0
    @Option(help: "Seconds between two discoveries of a node's NICs through its daemon (1-3600).") var hostPeriod = 60
    @Option(help: "Seconds between two leak sweeps of a node (1-120; 0 turns the sweep off).") var leakSweepPeriod = 60

    func runAsync() async throws {
        let logger = Logger(label: "multi-nic-operator")
        let environment = ProcessInfo.processInfo.environment
        let config: KubeConfig
        if let kubeconfig {
            config = try KubeConfig.kubeconfig(path: kubeconfig)
        } else if environment["KUBERNETES_SERVICE_HOST"] != nil {
            config = try KubeConfig.inCluster()
        } else {
            config = try KubeConfig.kubeconfig()
        }
        let namespace = namespace ?? environment["POD_NAMESPACE"] ?? config.namespace
        let client = KubeClient(config: config, qps: qps, burst: Int(qps * 2))
        let store = KubernetesStore(client: client, cached: KubernetesStore.controllerKinds,
                                    log: { message in logger.warning("informer: \(message)") })
        let account = serviceAccount ?? environment["POD_SERVICE_ACCOUNT"] ?? "multi-nic-cni-operator"
        let credentials: any DaemonCredentials
        switch daemonAuth {
        case "token-review":
            credentials = ServiceAccountTokens(client: client, namespace: namespace, serviceAccount: account)
        case "token-file":
            let token = (try? String(contentsOfFile: daemonTokenFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if token == nil { logger.warning("no daemon token in \(daemonTokenFile): daemons will refuse pools and routes") }
            credentials = StaticDaemonToken(token)
        default:
            throw ValidationError("--daemon-auth must be token-review or token-file, not \(daemonAuth)")
        }
        let trust = daemonTLS ? try await DaemonTrustFile.start(client: client, namespace: namespace, logger: logger) : nil
        let fleet = KubeDaemonFleet(client: client, namespace: namespace, port: daemonPort, credentials: credentials, trust: trust)
        let loaded = try PluginRegistry.load(directory: pluginsDir)
        for error in loaded.errors { logger.warning("plugin not loaded: \(error)") }
        guard (0...Int(DaemonAPI.sweepWindowSeconds)).contains(leakSweepPeriod) else {
            throw ValidationError("--leak-sweep-period must be 0 to \(Int(DaemonAPI.sweepWindowSeconds)) seconds")
        }
        guard (1...3600).contains(hostPeriod) else { throw ValidationError("--host-period must be 1 to 3600 seconds") }
        let metrics = OperatorMetrics()
        let controller = MultiNICController(
            store: store, fleet: fleet, renderer: NetworkRenderer(registry: loaded.registry), hostPeriod: .seconds(hostPeriod),
            // Its own client (own rate limit): the background sweep never delays the reconcilers' requests.
            pods: leakSweepPeriod > 0 ? KubePodDirectory(client: KubeClient(config: config, qps: qps, burst: Int(qps * 2))) : nil, sweepPeriod: .seconds(max(1, leakSweepPeriod)),
            onLeakSweep: { node, outcome in
                metrics.record(leakSweep: outcome, node: node)
                if case .released(let released) = outcome {
                    logger.info("leak sweep on \(node) released \(released.map(\.ip).joined(separator: ", ")) (their pods are gone)")
                }
            })
        let state = OperatorState()

        let work: @Sendable () async -> Void = {
            await store.startInformers()
            await state.setLeading(true)
            logger.info("leading: reconciling")
            let configs = WorkQueue<String>()
            let daemonSets = runWorkers(DaemonSetReconciler(store: store, namespace: namespace, operatorServiceAccount: account), queue: configs, workers: 1)
            let configEvents = Task {
                for config in (try? await store.list(ConfigSpec.self)) ?? [] { await configs.add(config.metadata.name) }
                for await event in await store.watch(ConfigSpec.self) { await configs.add(event.key.name) }
            }
            await controller.run(workers: 4)
            configEvents.cancel()
            for task in daemonSets { task.cancel() }
            await configs.shutdown()
            await state.setLeading(false)
        }
        let probes = Router()
        probes.get("/healthz") { _, _ in "ok" }
        // A standby replica is ready: it serves only its probes, and a rollout (maxSurge 1, maxUnavailable 0) must be
        // able to count the new replica before the old leader goes. The leader is ready once every informer has its
        // first list: a kind that never syncs (an answer the client cannot read, RBAC) shows here and in the log.
        probes.get("/readyz") { _, _ in
            guard await state.leading else { return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "standby\n"))) }
            let unsynced = await store.informerHealth().filter { !$0.synced }
            guard unsynced.isEmpty else {
                let reasons = unsynced.map { "\($0.kind): \($0.lastFailure ?? "not listed yet")" }.joined(separator: "\n")
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "informers not synced\n" + reasons + "\n")))
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "leading\n")))
        }
        let metricsRouter = Router()
        metricsRouter.get("/metrics") { _, _ in
            metrics.render(leading: await state.leading, informers: await store.informerHealth())
        }
        let servers = [Application(router: probes, configuration: .init(address: .hostname("0.0.0.0", port: healthPort)), logger: logger),
                       Application(router: metricsRouter, configuration: .init(address: .hostname("0.0.0.0", port: metricsPort)), logger: logger)]
        // SIGTERM/SIGINT: give the leader Lease up (so another replica takes over at once), then end the process.
        // Nothing else needs draining: the reconcilers are level-based. Hummingbird's own signal handling would stop
        // only the probe servers, so it is off.
        let identity = environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
        let elector = leaderElect ? LeaderElector(client: client, namespace: namespace, identity: identity) : nil
        let signals = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { _exit(0) }
                Task {
                    if let elector, await elector.release() { logger.info("leader lease released") }
                    _exit(0)
                }
            }
            source.resume()
            return source
        }
        let serving = servers.map { app in Task { try await app.runService(gracefulShutdownSignals: []) } }
        if let elector {
            await elector.run(work)
        } else {
            await work()
        }
        for task in serving { task.cancel() }
        for source in signals { source.cancel() }
    }
}

/// Whether this replica leads (for /readyz and /metrics).
actor OperatorState {
    private(set) var leading = false
    func setLeading(_ value: Bool) { leading = value }
}

// From main.swift ArgumentParser would take the synchronous path; parse, then await the work here.
do {
    let command = try Operator.parse()
    try await command.runAsync()
} catch {
    Operator.exit(withError: error)
}
