#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `/etc/iproute2/rt_tables` file: names for routing table ids. MultiNIC gives each L3 network its own table,
/// named after the network, and picks ids that collide with nothing listed there.
public struct RouteTableNames: Sendable, Hashable {
    /// id → name, as listed.
    public private(set) var entries: [(id: UInt32, name: String)]

    public static func == (lhs: RouteTableNames, rhs: RouteTableNames) -> Bool {
        lhs.entries.map(\.id) == rhs.entries.map(\.id) && lhs.entries.map(\.name) == rhs.entries.map(\.name)
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.id)
            hasher.combine(entry.name)
        }
    }

    /// The first id MultiNIC hands out (below are the distribution's).
    public static let firstID: UInt32 = 100
    /// Ids the kernel reserves (local 255, main 254, default 253, unspec 0).
    public static let reserved: Set<UInt32> = [0, 253, 254, 255]

    /// Parses the file's text: `<id> <name>` lines; `#` comments and malformed lines are ignored.
    public init(text: String) {
        entries = text.split(whereSeparator: \.isNewline).compactMap { line in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let id = UInt32(fields[0]) else { return nil }
            return (id, String(fields[1]))
        }
    }

    /// The id of `name`, if listed.
    public func id(of name: String) -> UInt32? {
        entries.first { $0.name == name }?.id
    }

    /// The smallest id ≥ ``firstID`` that is neither listed nor reserved.
    public func freeID() -> UInt32? {
        let used = Set(entries.map(\.id)).union(Self.reserved)
        return (Self.firstID...UInt32(Int32.max)).first { !used.contains($0) }
    }

    /// The id for `name`: the listed one, or a new one (returned with the line to append).
    public func assign(_ name: String) -> (id: UInt32, newLine: String?)? {
        if let existing = id(of: name) { return (existing, nil) }
        guard let id = freeID() else { return nil }
        return (id, "\(id)\t\(name)\n")
    }
}

/// Reads and appends the rt_tables file (path configurable; the daemon's is the host file mounted in).
public struct RouteTableFile: Sendable {
    public let path: String

    public init(path: String = "/etc/iproute2/rt_tables") {
        self.path = path
    }

    /// The table id for a network, appending a line to the file when it is new. The name becomes a token of the
    /// file, so it must be a ``SafeName`` (a newline or a space would add lines or tables).
    public func tableID(for network: String) throws(RouteTableError) -> UInt32 {
        if let problem = SafeName.problem(network) {
            throw RouteTableError("routing table name \(LogText.escaped(network, limit: 80)) \(problem)")
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let names = RouteTableNames(text: text)
        guard let (id, line) = names.assign(network) else { throw RouteTableError("no free routing table id in \(path)") }
        if let line {
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw RouteTableError("cannot open \(path): \(NetlinkError.text(errno))") }
            defer { close(descriptor) }
            let bytes = Array(((text.isEmpty || text.hasSuffix("\n") ? "" : "\n") + line).utf8)
            guard write(descriptor, bytes, bytes.count) == bytes.count else {
                throw RouteTableError("cannot append to \(path): \(NetlinkError.text(errno))")
            }
        }
        return id
    }
}

/// rt_tables could not be read or extended.
public struct RouteTableError: Error, Sendable, Hashable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
