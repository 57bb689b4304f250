import MultiNICCore

extension MultiNICHandler {
    /// Code for a CHECK that found the pod not as the ADD left it (plugin-specific range, ≥ 100).
    public static let checkFailed: UInt = 100

    /// CHECK (0.4.0+): every interface of `prevResult` exists in the netns, is up and carries its addresses. The
    /// reference plugins' own CHECK is not relied on.
    public func check(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try MultiNICNetConf(stdin: stdin)
        guard CNIVersion.hasCheck(config.cniVersion) else {
            throw CNIError(CNIError.incompatibleVersion, "CHECK needs cniVersion 0.4.0 or later, not \(config.cniVersion)")
        }
        guard let previous = config.prevResult else {
            throw CNIError(CNIError.invalidConfig, "network config: prevResult is required for CHECK")
        }
        let expected = try CNIResult.parse(previous)
        guard !expected.interfaces.isEmpty else {
            throw CNIError(CNIError.invalidConfig, "network config: prevResult has no interfaces")
        }
        let (links, addresses) = try PodNamespace.snapshot(arguments.netns)
        var problems = PodNamespace.problems(expected: expected, links: links, addresses: addresses)
        if let recorded = store(config).load(network: config.name, containerID: arguments.containerID, ifName: arguments.ifName) {
            let names = Set(links.map(\.name))
            problems += recorded.nics.filter { !names.contains($0.ifName) }.map { "\($0.ifName) (on \($0.master)) is missing" }
        }
        if config.multiNICIPAM {
            problems += try heldAddressProblems(expected, config: config, arguments: arguments)
        }
        guard problems.isEmpty else {
            throw CNIError(Self.checkFailed, "pod network \(config.name) is not as ADD left it",
                           details: Array(Set(problems)).sorted().joined(separator: "; "))
        }
    }

    /// Addresses of the result that the daemon no longer holds for this attachment.
    private func heldAddressProblems(_ expected: CNIResult, config: MultiNICNetConf, arguments: CNIArguments) throws(CNIError) -> [String] {
        try DaemonCalls.unheldAddresses(expected, client: client(config), network: config.name, arguments: arguments).map {
            "multi-nicd holds no lease for \($0) of \(arguments.containerID)"
        }
    }

    /// STATUS (1.1): 0 when the daemon answers and the network has a free address here; 50 when the daemon is
    /// unavailable or the pools are exhausted; 51 when the daemon reports itself degraded.
    public func status(_ arguments: CNIArguments, stdin: [UInt8]) throws {
        let config = try MultiNICNetConf(stdin: stdin)
        let status: DaemonStatus
        do {
            status = try client(config).status()
        } catch {
            throw CNIError(CNIError.notAvailable, "multi-nicd is not available", details: error.description)
        }
        if config.multiNICIPAM {
            let own = status.pools.filter { $0.network == config.name }
            if own.isEmpty || own.allSatisfy({ UInt128($0.inUse + $0.quarantined) >= (UInt128($0.capacity) ?? 0) }) {
                throw CNIError(CNIError.notAvailable, "no free address for network \(config.name) on \(status.node)")
            }
        }
        if !status.degraded.isEmpty {
            throw CNIError(CNIError.degraded, "multi-nicd is degraded", details: status.degraded.joined(separator: "; "))
        }
    }
}
