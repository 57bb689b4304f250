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
