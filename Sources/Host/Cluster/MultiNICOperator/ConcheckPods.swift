import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube

/// The pods of the in-cluster connection check and what is read back from them: server pods run one iperf3 server
/// per NIC (port 5201 + NIC index), client pods run `multinicctl concheck-probe` against every other host's
/// addresses and print one `RESULT` line per address.
public enum ConcheckPods {
    /// Label on every pod of the check (value `<network>-server` or `<network>-client`), as upstream.
    public static let label = "multi-nic-concheck"
    static let networksAnnotation = "k8s.v1.cni.cncf.io/networks"
    static let statusAnnotation = "k8s.v1.cni.cncf.io/network-status"
    /// iperf3 server port of NIC `k`.
    public static func port(nic: Int) -> Int { 5201 + nic }

    /// `<network>-<host>-<role>`, cut to 60 characters by keeping the tail (host names make the difference), with no
    /// leading `-` or `.` (upstream's rule).
    public static func name(network: String, host: String, role: String) -> String {
        var name = Substring("\(network)-\(host)-\(role)".lowercased()).suffix(60)
        while let first = name.first, first == "-" || first == "." { name = name.dropFirst() }
        return String(name)
    }

    /// `<network>-<role>`, cut to a label value's 63 characters by keeping the tail, starting with a letter or digit.
    public static func labelValue(network: String, role: String) -> String {
        var value = Substring("\(network)-\(role)").suffix(63)
        while let first = value.first, !(first.isLetter || first.isNumber) { value = value.dropFirst() }
        return String(value)
    }

    static func pod(name: String, namespace: String, network: String, role: String, host: String, image: String,
                    command: [String]) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("Pod"),
            "metadata": .object([
                "name": .string(name), "namespace": .string(namespace),
                "labels": .object([label: .string(labelValue(network: network, role: role))]),
                "annotations": .object([networksAnnotation: .string(network)]),
            ]),
            "spec": .object([
                "nodeName": .string(host), "restartPolicy": .string("Never"), "terminationGracePeriodSeconds": .integer(1),
                // The Pod Security "restricted" level: iperf3 needs no privilege (its ports are above 1024).
                "securityContext": .object(["runAsNonRoot": .bool(true), "runAsUser": .integer(65532),
                                            "seccompProfile": .object(["type": .string("RuntimeDefault")])]),
                "containers": .array([.object([
                    "name": .string(role), "image": .string(image), "command": .array(command.map(JSONValue.string)),
                    "securityContext": .object(["allowPrivilegeEscalation": .bool(false),
                                                "capabilities": .object(["drop": .array([.string("ALL")])])]),
                ])]),
            ]),
        ])
    }

    /// A pod on `host` serving iperf3 on one port per NIC until deleted.
    public static func server(network: String, host: String, nics: Int, namespace: String, image: String) -> JSONValue {
        let ports = (0..<max(1, nics)).map { String(port(nic: $0)) }.joined(separator: " ")
        return pod(name: name(network: network, host: host, role: "server"), namespace: namespace, network: network, role: "server",
                   host: host, image: image, command: ["/bin/sh", "-c", "for port in \(ports); do iperf3 -s -p $port & done; wait"])
    }

    /// A pod on `host` measuring every target (`address:port`) in turn, then exiting.
    public static func client(network: String, host: String, targets: [String], seconds: Int, namespace: String,
                              image: String) -> JSONValue {
        pod(name: name(network: network, host: host, role: "client"), namespace: namespace, network: network, role: "client",
            host: host, image: image, command: ["multinicctl", "concheck-probe", "--seconds", String(seconds)] + targets)
    }

    /// The pod's addresses on `network`, NIC by NIC, from Multus's network-status annotation (entries named
    /// `<namespace>/<network>` or `<network>`; one entry with every address, or one per interface).
    public static func addresses(fromPod pod: JSONValue, network: String) -> [String] {
        guard let text = pod.objectValue?["metadata"]?.objectValue?["annotations"]?.objectValue?[statusAnnotation]?.stringValue,
              let entries = (try? JSONValue.parse(text))?.arrayValue else { return [] }
        return entries.compactMap(\.objectValue).filter { entry in
            let name = entry["name"]?.stringValue ?? ""
            return name == network || name.hasSuffix("/" + network)
        }.flatMap { entry in (entry["ips"]?.arrayValue ?? []).compactMap(\.stringValue) }
    }

    /// `status.phase` (Pending, Running, Succeeded, Failed, Unknown).
    public static func phase(_ pod: JSONValue) -> String {
        pod.objectValue?["status"]?.objectValue?["phase"]?.stringValue ?? "Pending"
    }

    /// One probe line: `RESULT <address:port> <bits per second | ->`.
    public static func resultLine(target: String, bitsPerSecond: Double?) -> String {
        "RESULT \(target) " + (bitsPerSecond.map { String(format: "%.0f", $0) } ?? "-")
    }

    /// The probe lines of a client's log, by target; other lines are ignored.
    public static func results(fromLog log: String) -> [String: Double?] {
        var results: [String: Double?] = [:]
        for line in log.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[0] == "RESULT" else { continue }
            results[String(fields[1])] = Double(fields[2])
        }
        return results
    }
}

/// `multinicctl concheck-probe`: iperf3 against each target for `seconds`, one `RESULT` line each.
public enum ConcheckProbe {
    /// Bits per second received by `address:port`, or nil when the run failed.
    public static func measure(_ target: String, seconds: Int, iperf: String = "/usr/bin/iperf3") -> Double? {
        guard let colon = target.lastIndex(of: ":") else { return nil }
        let address = target[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = String(target[target.index(after: colon)...])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        // KILL: iperf3 may have inherited a mask that blocks SIGTERM from the thread that started it.
        process.arguments = ["--signal=KILL", String(seconds + 15), iperf, "-c", address, "-p", port, "-t", String(max(1, seconds)), "-J",
                             "--connect-timeout", "3000"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return nil
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ConnectionReport.receivedBitsPerSecond(iperfJSON: String(decoding: data, as: UTF8.self))
    }

    /// Every target in turn (never two at once: they would share the NICs), as probe lines.
    public static func run(targets: [String], seconds: Int, iperf: String = "/usr/bin/iperf3") -> [String] {
        targets.map { ConcheckPods.resultLine(target: $0, bitsPerSecond: measure($0, seconds: seconds, iperf: iperf)) }
    }
}
