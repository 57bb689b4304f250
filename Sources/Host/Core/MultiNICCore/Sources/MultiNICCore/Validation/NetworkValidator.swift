/// Checks a MultiNicNetwork before anything is computed or generated. Every issue names its field.
public enum NetworkValidator {
    /// Validates a network. `specKeys`, when given, are the keys the document had under `spec`: unknown ones
    /// (typos such as `attachpolicy`) become warnings.
    public static func validate(_ network: MultiNicNetwork, specKeys: Set<String>? = nil) -> ValidationReport {
        evaluate(network, specKeys: specKeys).report
    }

    /// The typed network, or every error found. This is the only way to make a ``ValidatedNetwork``.
    public static func check(_ network: MultiNicNetwork, specKeys: Set<String>? = nil) throws(ValidationFailure)
        -> ValidatedNetwork
    {
        let (report, validated) = evaluate(network, specKeys: specKeys)
        guard report.isValid, let validated else { throw ValidationFailure(report: report) }
        return validated
    }

    private static func evaluate(_ network: MultiNicNetwork, specKeys: Set<String>?) -> (report: ValidationReport,
                                                                                          network: ValidatedNetwork?) {
        var report = ValidationReport()
        let spec = network.spec
        if let problem = NameRules.subdomainProblem(network.metadata.name) {
            report.error("metadata.name", problem)
        }
        for key in (specKeys ?? []).subtracting(MultiNicNetworkSpec.knownKeys).sorted() {
            report.warning("spec.\(key)", "unknown field; it is ignored")
        }
        let subnet = checkSubnet(spec.subnet, into: &report)
        let masterNets = checkMasterNets(spec.masterNets ?? [], into: &report)
        checkPlugin(spec.plugin, into: &report)
        if let strategy = spec.attachPolicy?.strategy, !AttachPolicySpec.knownStrategies.contains(strategy) {
            report.warning("spec.attachPolicy.strategy", "\"\(strategy)\" is not a built-in strategy ("
                + AttachPolicySpec.knownStrategies.joined(separator: ", ")
                + "); it must be provided by a policy plugin in plugins.d")
        }
        if let target = spec.attachPolicy?.target, !target.isEmpty, SelectionSupport.parseBandwidth(target) == nil {
            report.error("spec.attachPolicy.target", "\"\(LogText.escaped(target, limit: 64))\" is not a bandwidth between 1Mbps and"
                + " 1000Tbps (e.g. 25Gbps, 800Mbps)")
        }
        for (index, namespace) in (spec.namespaces ?? []).enumerated() {
            if let problem = NameRules.labelProblem(namespace) { report.error("spec.namespaces[\(index)]", problem) }
        }
        let (parsed, ipamIssues, ipamJSON) = IPAMConfig.read(spec.ipam)
        report.errors += ipamIssues
        guard let ipam = parsed, let ipamJSON else { return (report, nil) }
        var routes: [PodRoute] = []
        switch ipam {
        case .multiNIC(let config):
            // Budget checks need the block sizes and excludes as written: skip them when those were unreadable.
            let unreadable = Set(ipamIssues.map(\.path))
            let blocksReadable = unreadable.isDisjoint(with: ["spec.ipam.hostBlock", "spec.ipam.interfaceBlock"])
                && !unreadable.contains { $0.hasPrefix("spec.ipam.excludeCIDRs") }
            checkMultiNICIPAM(config, json: ipamJSON, subnet: blocksReadable ? subnet : nil,
                              masterNets: masterNets, into: &report)
            routes = checkRoutes(config.routes, subnet: subnet, into: &report)
            if spec.multiNICIPAM == false {
                report.warning("spec.multiNICIPAM", "false with multi-nic-ipam: each NIC's address is asked for"
                    + " separately (single-NIC IPAM mode)")
            }
        case .passthrough(let type, _):
            if spec.multiNICIPAM == true {
                report.warning("spec.multiNICIPAM", "true, but ipam type \"\(type)\" is not multi-nic-ipam: it must"
                    + " return one address per NIC in a single call")
            }
        }
        guard report.isValid else { return (report, nil) }
        return (report, ValidatedNetwork(resource: network, subnet: subnet, masterNets: masterNets, ipam: ipam,
                                         ipamJSON: ipamJSON, routes: routes, warnings: report.warnings))
    }

    /// `spec.ipam.routes`: each destination a CIDR; a gateway must be an address of the subnet (it has to be on a
    /// pod interface's link to be reachable).
    private static func checkRoutes(_ routes: [IPAMRoute], subnet: IPNetwork?,
                                    into report: inout ValidationReport) -> [PodRoute] {
        var typed: [PodRoute] = []
        for (index, route) in routes.enumerated() {
            let path = "spec.ipam.routes[\(index)]"
            guard let destination = IPNetwork(route.dst) else {
                report.error(path + ".dst", "\"\(LogText.escaped(route.dst, limit: 64))\" is not a CIDR")
                continue
            }
            var gateway: IPAddress?
            if let text = route.gw, !text.isEmpty {
                guard let address = IPAddress(text) else {
                    report.error(path + ".gw", "\"\(LogText.escaped(text, limit: 64))\" is not an IP address")
                    continue
                }
                if let subnet, !subnet.contains(address) {
                    report.error(path + ".gw", "\(address) is outside subnet \(subnet); a pod reaches a gateway only"
                        + " on its own interface block")
                    continue
                }
                gateway = address
            }
            typed.append(PodRoute(destination: destination.normalized, gateway: gateway))
        }
        return typed
    }

    private static func checkSubnet(_ text: String, into report: inout ValidationReport) -> IPNetwork? {
        guard !text.isEmpty else { return nil }
        switch IPNetwork.parse(text) {
        case .failure(let error):
            report.error("spec.subnet", error.description)
            return nil
        case .success(let network):
            if !network.isNormalized {
                report.error("spec.subnet", "\"\(text)\" has host bits set; did you mean \(network.normalized)?")
            }
            return network.normalized
        }
    }

    private static func checkMasterNets(_ texts: [String], into report: inout ValidationReport) -> [IPNetwork] {
        var seen: [IPNetwork: Int] = [:]
        var nets: [IPNetwork] = []
        for (index, text) in texts.enumerated() {
            let path = "spec.masterNets[\(index)]"
            switch IPNetwork.parse(text) {
            case .failure(let error):
                report.error(path, error.description)
            case .success(let network):
                if !network.isNormalized {
                    report.error(path, "\"\(text)\" has host bits set; did you mean \(network.normalized)?")
                } else if let first = seen[network] {
                    report.error(path, "\(network) is already listed at spec.masterNets[\(first)]")
                } else {
                    seen[network] = index
                    nets.append(network)
                }
            }
        }
        return nets
    }

    private static func checkPlugin(_ plugin: PluginSpec, into report: inout ValidationReport) {
        if plugin.type.isEmpty { report.error("spec.plugin.type", "is required (e.g. ipvlan, macvlan, sriov)") }
        if !CNIVersion.supported.contains(plugin.cniVersion) {
            report.error("spec.plugin.cniVersion", "\"\(LogText.escaped(plugin.cniVersion, limit: 32))\" is not a CNI"
                + " version the CNI binaries run (" + CNIVersion.supported.joined(separator: ", ") + ")")
        }
    }

    private static func checkMultiNICIPAM(_ config: MultiNICIPAMConfig, json: JSONValue, subnet: IPNetwork?,
                                          masterNets: [IPNetwork], into report: inout ValidationReport) {
        if let keys = json.objectValue?.keys {
            for key in Set(keys).subtracting(MultiNICIPAMConfig.knownKeys).sorted() {
                report.warning("spec.ipam.\(key)", "unknown key for multi-nic-ipam (known: "
                    + MultiNICIPAMConfig.knownKeys.joined(separator: ", ") + ")")
            }
        }
        let blockIssues = NetworkLimits.blockIssues(hostBlock: config.hostBlock, interfaceBlock: config.interfaceBlock)
        for issue in blockIssues { report.error(issue.path, issue.message) }
        let excludes = checkExcludes(config.excludeCIDRs, subnet: subnet, into: &report)
        if let port = config.daemonPort, !(1...65535).contains(port) {
            report.error("spec.ipam.daemonPort", "\(port) is not a TCP port (1…65535)")
        }
        guard let subnet, blockIssues.isEmpty else { return }
        checkBitBudget(subnet: subnet, config: config, into: &report)
        if config.hostBlock == 0 {
            report.error("spec.ipam.hostBlock", "0 gives every host the same pod block of the subnet, so hosts would"
                + " hand out the same addresses; use hostBlock ≥ 1 (or subnet \"\" with per-host networks)")
        }
        checkInterfaceCapacity(subnet: subnet, config: config, excludes: excludes, masterNets: masterNets,
                               into: &report)
    }

    private static func checkExcludes(_ texts: [String], subnet: IPNetwork?,
                                      into report: inout ValidationReport) -> [IPNetwork] {
        var excludes: [IPNetwork] = []
        for (index, text) in texts.enumerated() {
            switch IPNetwork.parse(text, bareAddressAsHost: true) {
            case .failure(let error):
                report.error("spec.ipam.excludeCIDRs[\(index)]", error.description)
            case .success(let network):
                if let subnet, !subnet.overlaps(network) {
                    report.warning("spec.ipam.excludeCIDRs[\(index)]", "\(text) is outside subnet \(subnet);"
                        + " it excludes nothing")
                }
                excludes.append(network.normalized)
            }
        }
        return excludes
    }

    private static func checkBitBudget(subnet: IPNetwork, config: MultiNICIPAMConfig,
                                       into report: inout ValidationReport) {
        let width = subnet.family.bitWidth
        let used = subnet.prefixLength + config.interfaceBlock + config.hostBlock
        guard used > width - NetworkLimits.minPodBits else { return }
        let largest = width - NetworkLimits.minPodBits - subnet.prefixLength - config.interfaceBlock
        let hint = largest >= 1 ? "; the largest hostBlock for this subnet and interfaceBlock is \(largest)"
            : "; use a larger subnet or a smaller interfaceBlock"
        report.error("spec.ipam.hostBlock", "subnet /\(subnet.prefixLength) + interfaceBlock \(config.interfaceBlock)"
            + " + hostBlock \(config.hostBlock) = \(used) of \(width) bits leaves \(max(width - used, 0)) address"
            + " bit(s) per pod block; at least \(NetworkLimits.minPodBits) are needed" + hint)
    }

    private static func checkInterfaceCapacity(subnet: IPNetwork, config: MultiNICIPAMConfig, excludes: [IPNetwork],
                                               masterNets: [IPNetwork], into report: inout ValidationReport) {
        let space = IndexSpace(base: subnet, bits: config.interfaceBlock, excludes: excludes)
        var available: UInt64 = 0
        var candidate: UInt64 = 0
        while available < UInt64(masterNets.count), let next = space.nextAllowed(from: candidate) {
            available += 1
            candidate = next + 1
        }
        guard UInt64(masterNets.count) > available else { return }
        let excluded = space.capacity > available ? " (after excluded blocks: \(available))" : ""
        report.error("spec.masterNets", "lists \(masterNets.count) networks but interfaceBlock \(config.interfaceBlock)"
            + " gives \(space.capacity) interface block(s)\(excluded); raise interfaceBlock or list fewer networks")
    }
}

/// Kubernetes object-name rules (RFC 1123).
public enum NameRules {
    /// Why `name` is not a DNS-1123 subdomain (object names), or `nil` when it is one.
    public static func subdomainProblem(_ name: String) -> String? {
        if name.isEmpty { return "is required" }
        if name.utf8.count > 253 { return "\"\(name)\" is longer than 253 characters" }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) where !isLabel(label) {
            return "\"\(name)\" is not a valid name: lower-case letters, digits, '-' and '.', starting and ending"
                + " with a letter or digit"
        }
        return nil
    }

    /// Why `name` is not a DNS-1123 label (namespace names), or `nil` when it is one.
    public static func labelProblem(_ name: String) -> String? {
        if name.utf8.count > 63 || !isLabel(Substring(name)) {
            return "\"\(name)\" is not a valid namespace name: at most 63 lower-case letters, digits and '-',"
                + " starting and ending with a letter or digit"
        }
        return nil
    }

    private static func isLabel(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        func alnum(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
    }
}
