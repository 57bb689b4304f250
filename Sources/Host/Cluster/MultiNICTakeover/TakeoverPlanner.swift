import MultiNICCore

/// Computes a ``TakeoverPlan`` from the original's objects. Every check is a pure function of the snapshot.
public enum TakeoverPlanner {
    public static func plan(_ cluster: LegacyCluster) -> TakeoverPlan {
        var conflicts: [TakeoverConflict] = []
        let hostNames = Set(cluster.hosts.map(\.hostSpec.hostName))
        var plans: [NetworkPlan] = []
        for network in cluster.networks.sorted(by: { $0.metadata.name < $1.metadata.name }) {
            plans.append(plan(network, in: cluster, hostNames: hostNames, conflicts: &conflicts))
        }
        let names = Set(cluster.networks.map(\.metadata.name))
        for cidr in cluster.cidrs where !names.contains(cidr.metadata.name) {
            conflicts.append(.init(.cidrWithoutNetwork, network: cidr.metadata.name,
                                   "CIDR \(cidr.metadata.name) has no MultiNicNetwork; MultiNIC does not adopt it",
                                   action: "delete the CIDR, or recreate its MultiNicNetwork before the takeover", blocking: false))
        }
        for pool in cluster.pools where !names.contains(pool.spec.netAttachDef) {
            let live = pool.spec.allocations.count
            conflicts.append(.init(.poolWithoutNetwork, network: pool.spec.netAttachDef,
                                   "IPPool \(pool.metadata.name) belongs to no MultiNicNetwork (\(live) allocation\(live == 1 ? "" : "s"))",
                                   action: live == 0 ? "delete the IPPool" : "recreate network \(pool.spec.netAttachDef), or delete its pods and then the IPPool",
                                   blocking: live > 0))
        }
        conflicts += duplicates(cluster.pools) + workloadChecks(cluster)
        let blockedNetworks = Set(conflicts.filter(\.blocking).map(\.network))
        for index in plans.indices where blockedNetworks.contains(plans[index].name) { plans[index].adoptable = false }
        return TakeoverPlan(networks: plans, conflicts: conflicts.sorted(), controller: cluster.controller, daemon: cluster.daemon)
    }

    /// The original's workloads against a takeover: OLM restoring the stopped controller (blocking: two owners would
    /// allocate from one pool), and a daemon port both daemons want on the host network (a warning: pods started
    /// between the copy and the retire step fail to attach).
    static func workloadChecks(_ cluster: LegacyCluster) -> [TakeoverConflict] {
        var result: [TakeoverConflict] = []
        if let controller = cluster.controller, let owner = controller.olmOwner {
            let namespace = owner.split(separator: "/").first.map(String.init) ?? controller.namespace
            let csv = owner.split(separator: "/").last.map(String.init) ?? owner
            result.append(.init(.olmManaged, network: "",
                                "the original's controller \(controller.namespace)/\(controller.name) belongs to OLM ClusterServiceVersion \(owner): "
                                + "OLM would scale it back up after the takeover stops it, and two controllers would own every network",
                                action: "remove the operator from OLM first: delete its Subscription (`kubectl get subscriptions -n \(namespace)` "
                                + "names it), then `kubectl delete csv -n \(namespace) \(csv)` (CRDs and objects stay); plan again",
                                blocking: true))
        }
        if let daemon = cluster.daemon, daemon.kind == "DaemonSet", daemon.name == ConfigSpec.defaultName,
           daemon.namespace == cluster.multinicNamespace {
            result.append(.init(.daemonSetClash, network: "",
                                "the original daemon \(daemon.namespace)/\(daemon.name) is where MultiNIC's operator applies its own DaemonSet "
                                + "(Config \(ConfigSpec.defaultName) in namespace \(cluster.multinicNamespace)): installing MultiNIC there would replace "
                                + "the original's daemons before their allocations are adopted (MultiNIC's operator refuses to, so its daemons would "
                                + "not start at all)",
                                action: "install MultiNIC into another namespace (`cd deploy && kustomize edit set namespace multinic`), "
                                + "then plan again with --namespace multinic",
                                blocking: true))
        }
        if let daemon = cluster.daemon, let port = daemon.port, port == cluster.multinicDaemonPort {
            result.append(.init(.daemonPortClash, network: "",
                                "the original daemon \(daemon.namespace)/\(daemon.name) and MultiNIC's daemon both listen on host port \(port): "
                                + "MultiNIC's daemons cannot start until the original's is retired, so pods started in between fail to attach",
                                action: "set spec.daemon.port of MultiNIC's Config multi-nicd (and its DAEMON_PORT) to a free port, e.g. \(port + 1)",
                                blocking: false))
        }
        return result
    }

    static func plan(_ network: MultiNicNetwork, in cluster: LegacyCluster, hostNames: Set<String>,
                     conflicts: inout [TakeoverConflict]) -> NetworkPlan {
        let name = network.metadata.name
        let cidr = cluster.cidrs.first { $0.metadata.name == name }?.spec
        var validated: ValidatedNetwork?
        do {
            validated = try NetworkValidator.check(network)
        } catch {
            let issues = error.report.errors.map(\.description).joined(separator: "; ")
            conflicts.append(.init(.invalidNetwork, network: name, "MultiNicNetwork \(name) is refused by MultiNIC: \(issues)",
                                   action: "fix the named fields in the original MultiNicNetwork, then plan again", blocking: true))
        }
        let pools = cluster.pools.filter { $0.spec.netAttachDef == name }.sorted { $0.metadata.name < $1.metadata.name }
        if let cidr {
            conflicts += hostChecks(cidr, network: name, pools: pools, hostNames: hostNames, nodes: cluster.nodes)
            if let validated {
                conflicts += recomputeCheck(validated, cidr: cidr, hosts: cluster.hosts, pools: pools, nodes: cluster.nodes)
            }
        }
        var poolPlans: [PoolPlan] = []
        for pool in pools {
            poolPlans.append(poolPlan(pool, network: name, cidr: cidr, conflicts: &conflicts))
        }
        let nads = cluster.nads.filter { $0.metadata.name == name && LegacyCluster.isOriginal($0) }
            .compactMap(\.metadata.namespace).sorted()
        let mode = validated?.multiNICIPAM?.vlanMode
        var table: RouteTablePlan?
        if let cidr, let mode, mode.needsRoutes, let subnet = validated?.subnet {
            table = RouteTablePlan(name: name, subnet: subnet.description, routesPerHost: routesPerHost(cidr))
        }
        return NetworkPlan(name: name, plugin: network.spec.plugin.type, subnet: network.spec.subnet, vlanMode: mode, cidr: cidr,
                           pools: poolPlans, nadNamespaces: nads, routeTable: table, adoptable: true)
    }

    /// Hosts of the CIDR without a HostInterface (blocking when their pools hold addresses: nothing would describe
    /// the NICs those addresses sit on), or whose Node is gone (their allocations are stale).
    static func hostChecks(_ cidr: CIDRSpec, network: String, pools: [IPPool], hostNames: Set<String>,
                           nodes: Set<String>?) -> [TakeoverConflict] {
        var result: [TakeoverConflict] = []
        let cidrHosts = Set(cidr.cidr.flatMap { $0.hosts.map(\.hostName) })
        for host in cidrHosts.sorted() {
            let live = pools.filter { $0.spec.hostName == host }.reduce(0) { $0 + $1.spec.allocations.count }
            if let nodes, !nodes.contains(host) {
                result.append(.init(.nodeGone, network: network,
                                    "host \(host) has no Node: its blocks are released and its \(live) allocation\(live == 1 ? "" : "s") dropped as stale",
                                    action: "nothing to do unless the node comes back under the same name", blocking: false))
            } else if !hostNames.contains(host) {
                result.append(.init(.hostWithoutHostInterface, network: network,
                                    "host \(host) is in CIDR \(network) but has no HostInterface (\(live) live address\(live == 1 ? "" : "es") on it)",
                                    action: "start the original daemon on \(host) until its HostInterface is back, or drain \(host)",
                                    blocking: live > 0))
            }
        }
        return result
    }

    /// MultiNIC's compute with the original CIDR as `previous` must give every host the block it has.
    static func recomputeCheck(_ network: ValidatedNetwork, cidr: CIDRSpec, hosts: [HostInterface], pools: [IPPool],
                               nodes: Set<String>?) -> [TakeoverConflict] {
        let cidrHosts = Set(cidr.cidr.flatMap { $0.hosts.map(\.hostName) })
        let existing = nodes ?? cidrHosts.union(hosts.map(\.hostSpec.hostName))
        let computed: CIDRSpec
        do {
            computed = try CIDRPlan.compute(network: network, hosts: hosts, previous: cidr, existingNodes: existing).spec
        } catch {
            return [.init(.blockWouldMove, network: network.name, "MultiNIC cannot continue CIDR \(network.name): \(error)",
                          action: "make the MultiNicNetwork match the CIDR it was created with", blocking: true)]
        }
        var after: [String: String] = [:]
        for entry in computed.cidr { for host in entry.hosts { after["\(entry.netAddress) \(host.hostName)"] = host.podCIDR } }
        var result: [TakeoverConflict] = []
        for entry in cidr.cidr {
            for host in entry.hosts where existing.contains(host.hostName) {
                let moved = after["\(entry.netAddress) \(host.hostName)"]
                guard moved != host.podCIDR else { continue }
                let live = pools.filter { $0.spec.podCIDR == host.podCIDR }.reduce(0) { $0 + $1.spec.allocations.count }
                result.append(.init(.blockWouldMove, network: network.name,
                                    "\(host.hostName) on \(entry.netAddress) would move from \(host.podCIDR) to \(moved ?? "no block") (\(live) live)",
                                    action: "report this plan: MultiNIC must keep every existing index", blocking: live > 0))
            }
        }
        return result
    }

    static func poolPlan(_ pool: IPPool, network: String, cidr: CIDRSpec?, conflicts: inout [TakeoverConflict]) -> PoolPlan {
        let spec = pool.spec
        let described = cidr?.cidr.contains { entry in
            entry.hosts.contains { $0.podCIDR == spec.podCIDR && $0.hostName == spec.hostName }
        } ?? false
        if !described {
            let live = spec.allocations.count
            conflicts.append(.init(.poolWithoutCIDR, network: network,
                                   "IPPool \(pool.metadata.name) (\(spec.hostName) \(spec.podCIDR)) is in no host entry of CIDR \(network) (\(live) live)",
                                   action: live == 0 ? "delete the IPPool" : "delete the pods holding its addresses, or restore the CIDR host entry",
                                   blocking: live > 0))
        }
        let block = IPNetwork(spec.podCIDR)?.normalized
        let excludes = spec.excludes.compactMap { IPNetwork($0.contains("/") ? $0 : $0 + "/32") }
        var kept: [Allocation] = []
        var seen: Set<String> = []
        for allocation in spec.allocations {
            let owner = "\(allocation.namespace)/\(allocation.pod)"
            guard let address = IPAddress(allocation.address), let block, block.contains(address) else {
                conflicts.append(.init(.allocationOutsidePool, network: network,
                                       "\(owner) holds \(allocation.address), outside IPPool \(pool.metadata.name) (\(spec.podCIDR))",
                                       action: "delete pod \(owner) (it keeps an address MultiNIC cannot account for)", blocking: true))
                continue
            }
            if !seen.insert("\(allocation.address) \(owner)").inserted {
                conflicts.append(.init(.repeatedAllocation, network: network,
                                       "\(owner) is listed twice for \(allocation.address) in IPPool \(pool.metadata.name)",
                                       action: "none: the address is adopted once", blocking: false))
                continue
            }
            let offset = address.value - block.networkAddress.value
            if UInt128(exactly: allocation.index) != offset {
                conflicts.append(.init(.indexMismatch, network: network,
                                       "\(owner) in IPPool \(pool.metadata.name): index \(allocation.index) but address \(allocation.address) (offset \(offset))",
                                       action: "none: the address the pod holds is adopted", blocking: false))
            }
            if excludes.contains(where: { $0.contains(address) }) {
                conflicts.append(.init(.excludedAddress, network: network,
                                       "\(owner) holds \(allocation.address), inside an exclude of IPPool \(pool.metadata.name)",
                                       action: "none: adopted while the pod lives, never handed out again", blocking: false))
            }
            kept.append(allocation)
        }
        kept.sort { (IPAddress($0.address)?.value ?? 0, $0.namespace, $0.pod) < (IPAddress($1.address)?.value ?? 0, $1.namespace, $1.pod) }
        return PoolPlan(name: pool.metadata.name, hostName: spec.hostName, interfaceName: spec.interfaceName, podCIDR: spec.podCIDR,
                        allocations: kept)
    }

    /// One address held by two different pods, in one pool or across pools.
    static func duplicates(_ pools: [IPPool]) -> [TakeoverConflict] {
        var holders: [String: [(owner: String, pool: String, network: String)]] = [:]
        for pool in pools {
            for allocation in pool.spec.allocations {
                let key = IPAddress(allocation.address)?.description ?? allocation.address
                let owner = "\(allocation.namespace)/\(allocation.pod)"
                if holders[key]?.contains(where: { $0.owner == owner && $0.pool == pool.metadata.name }) == true { continue }
                holders[key, default: []].append((owner, pool.metadata.name, pool.spec.netAttachDef))
            }
        }
        return holders.keys.sorted().compactMap { address in
            guard let list = holders[address], Set(list.map(\.owner)).count > 1 else { return nil }
            let who = list.map { "\($0.owner) (\($0.pool))" }.joined(separator: " and ")
            return .init(.duplicateAddress, network: list[0].network, "\(address) is held by \(who)",
                         action: "delete all but one of these pods; the address is adopted for the one left", blocking: true)
        }
    }

    /// Routes per host in the table the original programmed: for each interface network the host is on, one route
    /// per other host on it.
    static func routesPerHost(_ cidr: CIDRSpec) -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in cidr.cidr {
            for host in entry.hosts { result[host.hostName, default: 0] += entry.hosts.count - 1 }
        }
        return result
    }
}
