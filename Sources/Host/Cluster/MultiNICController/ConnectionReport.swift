import Foundation
import MultiNICCore

/// One ordered pair of pods on different hosts, NIC by NIC.
public struct ConnectionResult: Sendable, Hashable {
    public var from: String
    public var to: String
    public var fromHost: String
    public var toHost: String
    /// The destination's addresses, one per NIC.
    public var addresses: [String]
    /// Measured bits per second per NIC; nil where the NIC did not connect.
    public var bandwidths: [Double?]

    public var connected: Int { bandwidths.compactMap { $0 }.count }

    public init(from: String, to: String, fromHost: String, toHost: String, addresses: [String], bandwidths: [Double?]) {
        self.from = from
        self.to = to
        self.fromHost = fromHost
        self.toHost = toHost
        self.addresses = addresses
        self.bandwidths = bandwidths
    }
}

/// The connection check's report, shared by the lab's check and the in-cluster Job: upstream's table, a summary line,
/// iperf3's rate format, and the received rate out of iperf3's JSON.
public enum ConnectionReport {
    /// iperf3's way of writing a rate: three significant digits, `8.80Gbits/sec`.
    public static func rate(_ bitsPerSecond: Double) -> String {
        let units = [(1e9, "Gbits/sec"), (1e6, "Mbits/sec"), (1e3, "Kbits/sec")]
        let (scale, unit) = units.first { bitsPerSecond >= $0.0 } ?? (1, "bits/sec")
        let value = bitsPerSecond / scale
        let text = value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.2f", value)
        return text + unit
    }

    /// Upstream's table: a banner with the network, then FROM, TO, CONNECTED/TOTAL, IPs, BANDWIDTHs (tab-aligned).
    public static func table(network: String, results: [ConnectionResult]) -> String {
        let header = ["FROM", "TO", "CONNECTED/TOTAL", "IPs", "BANDWIDTHs"]
        let rows = results.map { result -> [String] in
            let rates = result.connected == 0 ? "[]"
                : "[ " + result.bandwidths.map { $0.map(rate) ?? "-" }.joined(separator: " ") + "]"
            return [result.from, result.to, "\(result.connected)/\(result.addresses.count)",
                    "[" + result.addresses.joined(separator: " ") + "]", rates]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index] + 1, withPad: " ", startingAt: 0)
            }.joined().trimmingCharacters(in: .whitespaces)
        }
        let banner = "###########################################"
        return ([banner, "## Connection Check: \(network)", banner, line(header)] + rows.map(line) + [banner]).joined(separator: "\n")
    }

    /// One line: pairs fully connected, NIC paths connected, and the bandwidth spread.
    public static func summary(_ results: [ConnectionResult]) -> String {
        let full = results.filter { $0.connected == $0.addresses.count }.count
        let paths = results.reduce(0) { $0 + $1.connected }
        let total = results.reduce(0) { $0 + $1.addresses.count }
        let rates = results.flatMap { $0.bandwidths.compactMap { $0 } }.sorted()
        let spread = rates.isEmpty ? "no bandwidth measured"
            : "bandwidth min \(rate(rates[0])), median \(rate(rates[rates.count / 2])), max \(rate(rates[rates.count - 1]))"
        return "## Summary: \(full)/\(results.count) pairs fully connected, \(paths)/\(total) NIC paths; \(spread)"
    }

    /// `end.sum_received.bits_per_second` of `iperf3 -J` output; nil when the run failed.
    public static func receivedBitsPerSecond(iperfJSON text: String) -> Double? {
        let received = (try? JSONValue.parse(text))?.objectValue?["end"]?.objectValue?["sum_received"]?.objectValue?["bits_per_second"]
        switch received {
        case .double(let value)?: return value
        case .integer(let value)?: return Double(value)
        default: return nil
        }
    }
}
