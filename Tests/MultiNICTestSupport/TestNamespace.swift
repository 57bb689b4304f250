import Foundation

/// Network namespaces for kernel tests: created with `ip netns add`, always deleted afterwards (also when the
/// test fails), named `mntest-<random>` so leftovers are recognisable.
public enum TestNamespace {
    /// True when the process may create namespaces (CI runs as root).
    public static var canCreate: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: ipPath) }

    static var ipPath: String {
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"
    }

    /// Runs `ip` with `arguments`; throws with its stderr when it fails.
    @discardableResult
    public static func ip(_ arguments: String...) throws -> String {
        try ip(arguments)
    }

    @discardableResult
    public static func ip(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ipPath)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PluginTestFailure("ip \(arguments.joined(separator: " ")) failed: \(errorText)")
        }
        return text
    }

    /// Adds veth "NICs" to `namespace`: for each (name, address) a veth pair `name`/`peer<k>` with the address on
    /// `name`, both ends up.
    public static func addVethNICs(_ namespace: String, _ nics: [(name: String, address: String)]) throws {
        for (index, nic) in nics.enumerated() {
            try ip("-n", namespace, "link", "add", nic.name, "type", "veth", "peer", "name", "peer\(index)")
            try ip("-n", namespace, "addr", "add", nic.address, "dev", nic.name)
            try ip("-n", namespace, "link", "set", nic.name, "up")
            try ip("-n", namespace, "link", "set", "peer\(index)", "up")
        }
    }

    /// A veth "NIC" `nic` in `namespace` (with `address`, up) whose other end is a port of `bridge` in `fabric`
    /// (the bridge is created on first use): hosts on the same bridge share one L2 network, like a ToR switch.
    public static func addBridgedNIC(_ namespace: String, nic: String, address: String, fabric: String, bridge: String) throws {
        if (try? ip("-n", fabric, "link", "show", bridge)) == nil {
            try ip("-n", fabric, "link", "add", bridge, "type", "bridge")
            try ip("-n", fabric, "link", "set", bridge, "up")
        }
        let port = "p\(UInt32.random(in: 0...UInt32.max) % 1_000_000)"
        try ip("-n", fabric, "link", "add", port, "type", "veth", "peer", "name", nic, "netns", namespace)
        try ip("-n", fabric, "link", "set", port, "master", bridge, "up")
        try ip("-n", namespace, "addr", "add", address, "dev", nic)
        try ip("-n", namespace, "link", "set", nic, "up")
    }

    /// Runs `body` with `count` fresh namespaces, all deleted afterwards.
    public static func withMany<T>(_ count: Int, _ body: (_ names: [String]) throws -> T) throws -> T {
        func nest(_ names: [String]) throws -> T {
            if names.count == count { return try body(names) }
            return try with { name, _ in try nest(names + [name]) }
        }
        return try nest([])
    }

    /// Async variant of ``withMany(_:_:)``.
    public static func withMany<T>(_ count: Int, _ body: (_ names: [String]) async throws -> T) async throws -> T {
        func nest(_ names: [String]) async throws -> T {
            if names.count == count { return try await body(names) }
            return try await with { name, _ in try await nest(names + [name]) }
        }
        return try await nest([])
    }

    /// Runs `body` with a fresh namespace (name, path); the namespace and everything in it is deleted afterwards.
    public static func with<T>(_ body: (_ name: String, _ path: String) throws -> T) throws -> T {
        let name = "mntest-\(UInt32.random(in: 0...UInt32.max))"
        try ip("netns", "add", name)
        defer { _ = try? ip("netns", "delete", name) }
        try ip("-n", name, "link", "set", "lo", "up")
        return try body(name, "/var/run/netns/\(name)")
    }

    /// Async variant of ``with(_:)``.
    public static func with<T>(_ body: (_ name: String, _ path: String) async throws -> T) async throws -> T {
        let name = "mntest-\(UInt32.random(in: 0...UInt32.max))"
        try ip("netns", "add", name)
        defer { _ = try? ip("netns", "delete", name) }
        try ip("-n", name, "link", "set", "lo", "up")
        return try await body(name, "/var/run/netns/\(name)")
    }
}
