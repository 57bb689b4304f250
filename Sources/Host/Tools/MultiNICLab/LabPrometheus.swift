import Foundation

/// `lab up --prometheus`: Debian's Prometheus in the lab's fabric namespace, scraping every lab daemon's /metrics as
/// job `multi-nicd` (the job name deploy/monitoring's rules and PodMonitor use) and evaluating those alert rules.
public enum LabPrometheus {
    static let binary = "/usr/bin/prometheus"
    static let promtool = "/usr/bin/promtool"
    /// On the fabric's br0 (the hosts' primary network), inside the fabric namespace.
    public static let address = "172.31.0.1:9090"
    /// Scrape and rule evaluation interval: short, so an alert's `for:` is the only wait in the lab.
    static let interval = "2s"

    /// One row of Prometheus's ALERTS series.
    public struct Alert: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        /// `pending` or `firing`.
        public var state: String
        /// Every other label (instance, network, …).
        public var labels: [String: String]

        public var description: String {
            "\(name) \(state) " + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
    }

    /// deploy/monitoring/alerts.yaml found from the binaries' directory or the working directory (a checkout's build
    /// directory is inside the checkout); nil when neither is inside one.
    public static func defaultRules(binaries: String) -> String? {
        for start in [binaries, FileManager.default.currentDirectoryPath] {
            var directory = URL(fileURLWithPath: start)
            for _ in 0..<8 {
                let candidate = directory.appendingPathComponent("deploy/monitoring/alerts.yaml").path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// The configuration: every host's daemon by its primary address.
    static func configuration(targets: [String], rules: String) -> String {
        """
        global: {scrape_interval: \(interval), evaluation_interval: \(interval)}
        rule_files: [\(rules)]
        scrape_configs:
        - job_name: multi-nicd
          static_configs:
          - targets: [\(targets.joined(separator: ", "))]

        """
    }

    /// Starts Prometheus with `rules` (copied into the lab) and waits until it has scraped every daemon once.
    static func start(_ record: inout LabRecord, rules: String) throws(LabError) {
        for tool in [binary, promtool] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw LabError("\(tool) is missing: install Debian's prometheus (apt-get install prometheus)")
        }
        let directory = record.directory + "/prometheus"
        let targets = record.hosts.indices.map { "\(LabTopology.primaryAddress(host: $0)):11000" }
        do {
            try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
            try Data(contentsOf: URL(fileURLWithPath: rules)).write(to: URL(fileURLWithPath: directory + "/alerts.yaml"))
            try configuration(targets: targets, rules: directory + "/alerts.yaml")
                .write(toFile: directory + "/prometheus.yml", atomically: true, encoding: .utf8)
        } catch {
            throw LabError("cannot prepare \(directory): \(error.localizedDescription)")
        }
        let check = try LabShell.run(promtool, ["check", "config", directory + "/prometheus.yml"])
        guard check.status == 0 else { throw LabError("promtool check config: \(check.output)\(check.errors)") }
        let process = try LabShell.spawn("prometheus", in: record.fabric,
                                         [binary, "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                                          "--web.listen-address=\(address)", "--log.level=warn"], log: directory + "/prometheus.log")
        record.prometheusPID = process.processIdentifier
        try record.save()
        for _ in 0..<300 {
            let up = (try? query(record, "up == 1")) ?? []
            if up.count == targets.count { return }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        throw LabError("prometheus did not scrape every daemon within 30 s; see \(directory)/prometheus.log")
    }

    /// The series an instant query returns, as label sets.
    static func query(_ record: LabRecord, _ expression: String) throws(LabError) -> [[String: String]] {
        let result = try LabShell.inNamespace(record.fabric, [promtool, "query", "instant", "http://\(address)", expression])
        guard result.status == 0 else {
            throw LabError("promtool query \(expression): \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output.split(separator: "\n").compactMap { parseSeries(String($0)) }
    }

    /// `name{a="x", b="y"} => 1 @[…]` → its labels (the metric name as `__name__`).
    static func parseSeries(_ line: String) -> [String: String]? {
        guard let arrow = line.range(of: " => ") else { return nil }
        let series = line[..<arrow.lowerBound]
        var labels: [String: String] = [:]
        let open = series.firstIndex(of: "{")
        labels["__name__"] = String(series[..<(open ?? series.endIndex)])
        guard let open, series.last == "}" else { return labels }
        var rest = series[series.index(after: open)..<series.index(before: series.endIndex)]
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            var value = ""
            while let character = rest.first, character != "\"" {
                rest = rest.dropFirst()
                if character == "\\", let escaped = rest.first {
                    value.append(escaped)
                    rest = rest.dropFirst()
                } else {
                    value.append(character)
                }
            }
            rest = rest.dropFirst()
            labels[key] = value
        }
        return labels
    }

    /// Pending and firing alerts of a lab started with `--prometheus`.
    public static func alerts(name: String, root: String) throws(LabError) -> [Alert] {
        let record = try LabRecord.load(directory: root + "/" + name)
        guard record.prometheusPID != nil else { throw LabError("lab \(name) runs no Prometheus (lab up --prometheus)") }
        return try query(record, "ALERTS").map { labels in
            Alert(name: labels["alertname"] ?? "?", state: labels["alertstate"] ?? "?",
                  labels: labels.filter { !["__name__", "alertname", "alertstate"].contains($0.key) })
        }.sorted { ($0.name, $0.description) < ($1.name, $1.description) }
    }
}
