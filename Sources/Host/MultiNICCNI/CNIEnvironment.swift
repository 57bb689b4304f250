import MultiNICCore

/// What a CNI invocation sees: the environment and stdin. Injected so tests never touch the process.
public struct CNIEnvironment: Sendable {
    public var variables: [String: String]
    public var stdin: [UInt8]

    public init(variables: [String: String], stdin: [UInt8]) {
        self.variables = variables
        self.stdin = stdin
    }
}

/// The CNI verbs.
public enum CNICommand: String, Sendable, Hashable, CaseIterable {
    case add = "ADD"
    case del = "DEL"
    case check = "CHECK"
    case status = "STATUS"
    case gc = "GC"
    case version = "VERSION"
}

/// `CNI_*` variables of one invocation, checked per verb (SPEC §Parameters).
public struct CNIArguments: Sendable, Hashable {
    public var command: CNICommand
    public var containerID: String
    public var netns: String
    public var ifName: String
    /// `K=V;K=V` pairs (Multus passes `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_UID`, …).
    public var args: [String: String]
    public var path: [String]

    /// Reads the variables; a missing one that the verb needs is error 4 naming it.
    public init(_ environment: CNIEnvironment) throws(CNIError) {
        let variables = environment.variables
        guard let raw = variables["CNI_COMMAND"], !raw.isEmpty else {
            throw CNIError(CNIError.invalidEnvironment, "CNI_COMMAND is not set")
        }
        guard let command = CNICommand(rawValue: raw) else {
            throw CNIError(CNIError.invalidEnvironment, "unknown CNI_COMMAND \(raw)",
                           details: "one of " + CNICommand.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.command = command
        func required(_ name: String, for commands: Set<CNICommand>) throws(CNIError) -> String {
            let value = variables[name] ?? ""
            if value.isEmpty && commands.contains(command) {
                throw CNIError(CNIError.invalidEnvironment, "\(name) is required for \(command.rawValue)")
            }
            return value
        }
        containerID = try required("CNI_CONTAINERID", for: [.add, .del, .check])
        netns = try required("CNI_NETNS", for: [.add, .check])
        ifName = try required("CNI_IFNAME", for: [.add, .del, .check])
        // SPEC §Parameters: a container ID is alphanumerics plus `_ . -`; an interface name has at most 15 bytes and no
        // `/`. Both become parts of file names here, so both must be safe names.
        if !containerID.isEmpty, let problem = SafeName.problem(containerID) {
            throw CNIError(CNIError.invalidEnvironment, "CNI_CONTAINERID \(problem)")
        }
        if !ifName.isEmpty {
            if let problem = SafeName.problem(ifName) { throw CNIError(CNIError.invalidEnvironment, "CNI_IFNAME \(problem)") }
            // Per-NIC interfaces are `<ifname>-<k>`: the kernel's 15-byte limit applies to those too.
            guard ifName.utf8.count <= 12 else {
                throw CNIError(CNIError.invalidEnvironment, "CNI_IFNAME \(ifName) is longer than 12 characters",
                               details: "per-NIC interfaces are named <ifname>-<k> and a Linux interface name has at most 15")
            }
        }
        path = try required("CNI_PATH", for: [.add, .del, .check, .gc, .status]).split(separator: ":").map(String.init)
        args = Dictionary((variables["CNI_ARGS"] ?? "").split(separator: ";").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { _, last in last })
    }
}

/// CNI spec versions.
public enum CNIVersion {
    /// Every version MultiNIC speaks, oldest first.
    public static let supported = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    public static let latest = "1.1.0"

    /// True for versions whose results carry `ips[].version` (0.3.x, 0.4.0).
    public static func usesIPVersionField(_ version: String) -> Bool {
        version.hasPrefix("0.")
    }

    /// True from 0.4.0 on (CHECK and prevResult on DEL).
    public static func hasCheck(_ version: String) -> Bool { atLeast(version, "0.4.0") }

    /// True from 1.1.0 on (GC and STATUS).
    public static func hasGC(_ version: String) -> Bool { atLeast(version, "1.1.0") }

    /// Numeric comparison of dotted versions (`1.10.0` is after `1.9.0`); unparsable parts count as 0.
    public static func atLeast(_ version: String, _ minimum: String) -> Bool {
        let lhs = version.split(separator: ".").map { Int($0) ?? 0 }
        let rhs = minimum.split(separator: ".").map { Int($0) ?? 0 }
        for position in 0..<max(lhs.count, rhs.count) {
            let (a, b) = (position < lhs.count ? lhs[position] : 0, position < rhs.count ? rhs[position] : 0)
            if a != b { return a > b }
        }
        return true
    }

    /// The `VERSION` answer.
    public static var versionInfo: String {
        "{\"cniVersion\":\"\(latest)\",\"supportedVersions\":[" + supported.map { "\"\($0)\"" }.joined(separator: ",") + "]}"
    }
}
