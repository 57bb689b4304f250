import MultiNICCore

/// The original project (Multi-NIC CNI, `multinic.fms.io/v1`) as a second owner of a network: its MultiNicNetwork of
/// the same name exists and its controller Deployment wants replicas. While that holds MultiNIC leaves the network
/// alone — no CIDR, pools, routes or NADs of its own, nothing removed when MultiNIC's copy is deleted — so two
/// controllers never carve, route or render one network; `multinicctl takeover apply` hands it over (it stops the
/// original's controller before it copies anything).
enum LegacyOwner {
    /// `namespace/name` of the original's controller when it manages `network`; nil when MultiNIC may own it.
    /// `spec.replicas` decides, not the pods still running: a controller scaled to 0 has been handed over.
    static func controller(managing network: String, in store: any ResourceStore) async throws(StoreError) -> String? {
        let networks = try await store.listObjects(apiVersion: MultiNICAPI.legacyVersion, kind: MultiNicNetworkSpec.kind,
                                                   labels: [:], name: network)
        guard !networks.isEmpty else { return nil }
        let deployments = try await store.listObjects(apiVersion: "apps/v1", kind: "Deployment", labels: [:],
                                                      name: MultiNICAPI.legacyControllerName)
        for deployment in deployments {
            let fields = deployment.objectValue ?? [:]
            // An absent `spec.replicas` means 1 (the API server's default).
            let replicas = fields["spec"]?.objectValue?["replicas"]?.intValue ?? 1
            guard replicas > 0 else { continue }
            let metadata = fields["metadata"]?.objectValue ?? [:]
            return (metadata["namespace"]?.stringValue ?? "default") + "/" + (metadata["name"]?.stringValue ?? MultiNICAPI.legacyControllerName)
        }
        return nil
    }

    /// The status message of a network left to the original.
    static func message(network: String, controller: String) -> String {
        "Multi-NIC CNI's controller \(controller) manages network \(network) (\(MultiNICAPI.legacyVersion)): MultiNIC leaves it "
            + "alone so that one network never has two owners; `multinicctl takeover plan` shows the handover and "
            + "`multinicctl takeover apply --network \(network)` carries it out"
    }
}

/// ``LegacyOwner`` with its "no second owner" answers kept for a while per network: the check is two uncached
/// LISTs, and a network is reconciled at every host change; clusters without the original (nearly all) ask once per
/// `ttl`. A network the original manages is checked again at every reconcile, so its handover is seen at once.
actor LegacyOwnerMemo {
    private var clearUntil: [String: ContinuousClock.Instant] = [:]
    private let ttl: Duration

    init(ttl: Duration = .seconds(30)) {
        self.ttl = ttl
    }

    func controller(managing network: String, in store: any ResourceStore) async throws(StoreError) -> String? {
        let now = ContinuousClock.now
        if let until = clearUntil[network], now < until { return nil }
        let controller = try await LegacyOwner.controller(managing: network, in: store)
        clearUntil[network] = controller == nil ? now + ttl : nil
        return controller
    }
}
