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
