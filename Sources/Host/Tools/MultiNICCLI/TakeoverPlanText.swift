import MultiNICCore
import MultiNICTakeover

extension TakeoverPlan {
    /// The plan as `multinicctl takeover plan` prints it: per network what MultiNIC will own, then every conflict as a
    /// line a human can act on, then the steps `takeover apply` takes.
    var text: String {
        var lines: [String] = []
        let hosts = Set(networks.flatMap { $0.pools.map(\.hostName) }).count
        lines.append("Takeover of Multi-NIC CNI (\(MultiNICAPI.legacyVersion)): \(networks.count) network\(networks.count == 1 ? "" : "s"), "
                     + "\(hosts) host\(hosts == 1 ? "" : "s"), \(networks.reduce(0) { $0 + $1.pools.count }) pools, \(liveAddresses) live addresses")
        for network in networks {
            lines.append("")
            lines += network.lines
        }
        lines.append("")
        if conflicts.isEmpty {
            lines.append("conflicts: none")
        } else {
            lines.append("conflicts (\(blocking.count) blocking):")
            for conflict in conflicts {
                lines.append("  \(conflict.blocking ? "BLOCKING" : "warning ") \(conflict.kind.rawValue): \(conflict.message)")
                lines.append("           → \(conflict.action)")
            }
        }
        lines.append("")
        lines.append("takeover apply will:")
        lines += steps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What `takeover apply` does, in order, as sentences.
    var steps: [String] {
        let controllerText = controller.map { "\($0.namespace)/\($0.name) (\($0.replicas) replica\($0.replicas == 1 ? "" : "s"))" }
            ?? "the original controller (not found)"
        let daemonText = daemon.map { "\($0.namespace)/\($0.name)" } ?? "the original daemon (not found)"
        return [
            "record the takeover (ConfigMap multinic-takeover) with the original's replicas, so it can resume and roll back",
            "stop \(controllerText): it would rewrite the NADs and flush the route tables",
            "create the \(MultiNICAPI.version) networks, CIDRs (indices as they are), HostInterfaces and IPPools, status included",
            "mark each IPPool's allocations for adoption: each node daemon journals them before it serves its first ADD",
            "adopt each L3 network's route table and rule on every host as they are (no flush)",
            "rewrite the NADs to MultiNIC's config (old pods' DELs still work: multi-nic reads the original's config)",
            "remove \(daemonText) last",
        ]
    }
}

extension NetworkPlan {
    var lines: [String] {
        var lines: [String] = []
        let mode = vlanMode.map { " \($0.rawValue)" } ?? ""
        lines.append("network \(name): \(plugin), subnet \(subnet.isEmpty ? "(host subnets)" : subnet)\(mode)\(adoptable ? "" : " — NOT ADOPTABLE (see conflicts)")")
        if let cidr {
            lines.append("  CIDR kept as it is (the original becomes --previous of the first compute: no block moves)")
            var rows = [["    INDEX", "INTERFACE NETWORK", "VLAN CIDR", "HOST", "HOST INDEX", "POD CIDR"]]
            for entry in cidr.cidr.sorted(by: { $0.interfaceIndex < $1.interfaceIndex }) {
                for host in entry.hosts.sorted(by: { $0.hostIndex < $1.hostIndex }) {
                    rows.append(["    \(entry.interfaceIndex)", entry.netAddress, entry.vlanCIDR, host.hostName, String(host.hostIndex), host.podCIDR])
                }
            }
            lines += CIDRTable.alignColumns(rows)
        } else {
            lines.append("  no CIDR (MultiNIC computes one when hosts are discovered)")
        }
        if !pools.isEmpty {
            lines.append("  pools (allocations adopted into each node's journal, keyed by pod until its first DEL):")
            var rows = [["    POOL", "HOST", "NIC", "POD CIDR", "LIVE"]]
            for pool in pools {
                let live = pool.allocations.map { "\($0.address) \($0.namespace)/\($0.pod)" }.joined(separator: ", ")
                rows.append(["    \(pool.name)", pool.hostName, pool.interfaceName, pool.podCIDR,
                             pool.allocations.isEmpty ? "0" : "\(pool.allocations.count): \(live)"])
            }
            lines += CIDRTable.alignColumns(rows)
        }
        lines.append("  NADs to rewrite: \(nadNamespaces.isEmpty ? "none" : nadNamespaces.joined(separator: ", "))")
        if let table = routeTable {
            let hosts = table.routesPerHost.keys.sorted().map { "\($0) (\(table.routesPerHost[$0] ?? 0))" }
            lines.append("  route table \(table.name) adopted with rule from \(table.subnet): routes per host \(hosts.joined(separator: ", "))")
        } else {
            lines.append("  route table: none (no L3 routes)")
        }
        return lines
    }
}
