import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube

/// The connection check on a real cluster (what the `multi-nic-concheck` Job runs): for a network, one iperf3 server
/// pod per host of its CIDR; when they run, one client pod per host in turn (so measurements do not share NICs)
/// against every other host's addresses; the clients' logs become upstream's table. The pods are deleted at the end.
public struct ClusterConnectionCheck: Sendable {
    public struct Options: Sendable {
        public var namespace = "default"
        /// An image with iperf3 and multinicctl (the operator image).
        public var image = "ghcr.io/multinic/multi-nic-cni-operator:latest"
        /// iperf3 duration per address.
        public var seconds = 5
        /// How long server pods may take to run with their addresses.
        public var readyTimeout: Duration = .seconds(300)
        /// How long one client pod may take beyond its measurements.
        public var clientGrace: Duration = .seconds(120)
        public var pollInterval: Duration = .seconds(2)
        /// Leave the pods for inspection.
        public var keepPods = false

        public init() {}
    }

    let client: KubeClient
    let options: Options
    let progress: @Sendable (String) -> Void

    public init(client: KubeClient, options: Options = Options(), progress: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.options = options
        self.progress = progress
    }

    func podPath(_ name: String? = nil) -> String {
        KubePaths.collection(apiVersion: "v1", plural: "pods", namespace: options.namespace) + (name.map { "/" + KubePaths.escape($0) } ?? "")
    }

    func pod(_ name: String) async -> JSONValue? {
        guard let body = try? await client.call("GET", podPath(name)) else { return nil }
        return try? JSONValue.parse(String(decoding: body, as: UTF8.self))
    }

    /// Creates the pod, replacing one of the same name left by an earlier run.
    func create(_ pod: JSONValue, name: String) async throws(KubeError) {
        do {
            _ = try await client.call("POST", podPath(), body: Array(pod.description.utf8))
        } catch .api(409, _) {
            try await delete(name)
            for _ in 0..<60 where await self.pod(name) != nil { try? await Task.sleep(for: .seconds(1)) }
            _ = try await client.call("POST", podPath(), body: Array(pod.description.utf8))
        }
    }

    func delete(_ name: String) async throws(KubeError) {
        do {
            _ = try await client.call("DELETE", podPath(name))
        } catch .api(404, _) {
            return
        }
    }

    /// Polls until `done` holds for the pod or the time is up; the last state seen.
    func wait(_ name: String, for timeout: Duration, until done: (JSONValue) -> Bool) async -> JSONValue? {
        let deadline = ContinuousClock.now + timeout
        var last: JSONValue?
        while ContinuousClock.now < deadline {
            last = await pod(name)
            if let last, done(last) { return last }
            try? await Task.sleep(for: options.pollInterval)
        }
        return last
    }

    /// Checks one network; rows for every ordered pair of its hosts.
    public func run(network: String) async throws(KubeError) -> [ConnectionResult] {
        let cidr = try await client.get(CIDRSpec.self, name: network, namespace: nil)
        let hosts = RoutePlan.hosts(cidr.spec).sorted()
        let nics = Dictionary(grouping: cidr.spec.cidr.flatMap { entry in entry.hosts.map(\.hostName) }, by: { $0 }).mapValues(\.count)
        guard hosts.count >= 2 else { throw .configuration("network \(network) has \(hosts.count) host(s): nothing to check between") }
        let servers = hosts.map { ConcheckPods.name(network: network, host: $0, role: "server") }
        do {
            progress("\(network): starting \(hosts.count) server pods")
            for (host, name) in zip(hosts, servers) {
                try await create(ConcheckPods.server(network: network, host: host, nics: nics[host] ?? 1, namespace: options.namespace,
                                                     image: options.image), name: name)
            }
            let results = try await measureAll(network: network, hosts: hosts, servers: servers, nics: nics)
            await removeUnlessKept(servers)
            return results
        } catch {
            await removeUnlessKept(servers)
            throw error
        }
    }

    func removeUnlessKept(_ names: [String]) async {
        guard !options.keepPods else { return }
        for name in names { try? await delete(name) }
    }

    func measureAll(network: String, hosts: [String], servers: [String], nics: [String: Int]) async throws(KubeError) -> [ConnectionResult] {
        var addresses: [String: [String]] = [:]
        for (host, name) in zip(hosts, servers) {
            let ready = await wait(name, for: options.readyTimeout) { pod in
                ConcheckPods.phase(pod) == "Running" && !ConcheckPods.addresses(fromPod: pod, network: network).isEmpty
                    || ["Failed", "Succeeded"].contains(ConcheckPods.phase(pod))
            }
            let found = ready.map { ConcheckPods.addresses(fromPod: $0, network: network) } ?? []
            if ready.map(ConcheckPods.phase) == "Running", !found.isEmpty {
                addresses[host] = found
            } else {
                progress("\(network): server on \(host) not ready (\(ready.map(ConcheckPods.phase) ?? "no pod")): its rows show 0")
            }
        }
        var results: [ConnectionResult] = []
        for host in hosts {
            let others = hosts.filter { $0 != host }
            let targets = others.flatMap { other in
                (addresses[other] ?? []).enumerated().map { nic, address in Self.target(address, port: ConcheckPods.port(nic: nic)) }
            }
            let measured = targets.isEmpty ? [:] : try await measure(network: network, from: host, targets: targets)
            for other in others {
                let known = addresses[other] ?? []
                let shown = known.isEmpty ? Array(repeating: "-", count: nics[other] ?? 1) : known
                let bandwidths = shown.enumerated().map { nic, address -> Double? in
                    known.isEmpty ? nil : measured[Self.target(address, port: ConcheckPods.port(nic: nic))] ?? nil
                }
                results.append(ConnectionResult(from: host, to: other, fromHost: host, toHost: other, addresses: shown,
                                                bandwidths: bandwidths))
            }
        }
        return results
    }

    static func target(_ address: String, port: Int) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// Runs the client pod on `host` and reads its probe lines.
    func measure(network: String, from host: String, targets: [String]) async throws(KubeError) -> [String: Double?] {
        let name = ConcheckPods.name(network: network, host: host, role: "client")
        progress("\(network): measuring from \(host) (\(targets.count) addresses)")
        try await create(ConcheckPods.client(network: network, host: host, targets: targets, seconds: options.seconds,
                                             namespace: options.namespace, image: options.image), name: name)
        let budget = options.readyTimeout + options.clientGrace + .seconds((options.seconds + 15) * targets.count)
        let finished = await wait(name, for: budget) { ["Succeeded", "Failed"].contains(ConcheckPods.phase($0)) }
        var log = ""
        if let body = try? await client.call("GET", podPath(name) + "/log") { log = String(decoding: body, as: UTF8.self) }
        if finished.map(ConcheckPods.phase) != "Succeeded" {
            progress("\(network): client on \(host) ended \(finished.map(ConcheckPods.phase) ?? "without a pod")")
        }
        if !options.keepPods { try? await delete(name) }
        return ConcheckPods.results(fromLog: log)
    }
}
