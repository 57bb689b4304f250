import MultiNICCore

/// The human view of a CIDR: a host × interface matrix of pod blocks.
enum CIDRTable {
    static func render(_ spec: CIDRSpec, hostOrder: [String]) -> String {
        let config = spec.config
        var lines: [String] = []
        let podPrefix = spec.cidr.first.flatMap { $0.hosts.first }.flatMap { IPNetwork($0.podCIDR) }
        var summary = "CIDR \(config.name): "
        summary += config.subnet.isEmpty ? "host-subnet mode" : "subnet \(config.subnet)"
        summary += ", interfaceBlock \(config.interfaceBlock), hostBlock \(config.hostBlock)"
        if let podPrefix { summary += ", pod blocks /\(podPrefix.prefixLength) (\(sizeText(podPrefix)) addresses)" }
        lines.append(summary)
        var names = hostOrder.filter { name in spec.cidr.contains { $0.hosts.contains { $0.hostName == name } } }
        let others = Set(spec.cidr.flatMap { $0.hosts.map(\.hostName) }).subtracting(names)
        names += others.sorted()
        var rows: [[String]] = [["HOST"] + spec.cidr.map { "\($0.netAddress) [\($0.interfaceIndex)]" }]
        rows.append([""] + spec.cidr.map(\.vlanCIDR))
        for name in names {
            rows.append([name] + spec.cidr.map { entry in
                entry.hosts.first { $0.hostName == name }.map { "\($0.podCIDR) #\($0.hostIndex)" } ?? "-"
            })
        }
        lines += alignColumns(rows)
        lines.append("\(names.count) host(s), \(spec.cidr.count) interface network(s), "
            + "\(spec.cidr.reduce(0) { $0 + $1.hosts.count }) pod block(s)")
        return lines.joined(separator: "\n") + "\n"
    }

    static func renderPools(_ pools: [IPPool]) -> String {
        var rows = [["IPPOOL", "HOST", "INTERFACE", "PODCIDR", "EXCLUDES"]]
        for pool in pools {
            rows.append([pool.name, pool.spec.hostName, pool.spec.interfaceName, pool.spec.podCIDR,
                         pool.spec.excludes.isEmpty ? "-" : pool.spec.excludes.joined(separator: ",")])
        }
        return alignColumns(rows).joined(separator: "\n") + "\n"
    }

    /// Left-aligned columns separated by two spaces, no trailing blanks.
    static func alignColumns(_ rows: [[String]]) -> [String] {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        return rows.map { row in
            var line = ""
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            return line
        }
    }

    /// 256, or 2^66 for blocks too large to print.
    static func sizeText(_ network: IPNetwork) -> String {
        network.hostBits < 40 ? String(UInt64(1) << UInt64(network.hostBits)) : "2^\(network.hostBits)"
    }
}
