import Foundation

/// A small disk for each daemon's state (its IPAM journal) during a chaos run: a tmpfs mounted over the state
/// directory (its files copied in and, at the end, back out), which ``ChaosFault/fillJournalDisk(host:)`` fills so
/// that every journal write meets ENOSPC for a while.
enum LabJournalDisk {
    static let size = "32m"
    static func state(_ host: LabRecord.Host) -> String { host.directory + "/state" }
    static func saved(_ host: LabRecord.Host) -> String { host.directory + "/state.disk" }
    static func filler(_ host: LabRecord.Host) -> String { state(host) + "/chaos-filler" }

    /// Moves each host's state onto its own tmpfs (the daemon stopped meanwhile and started again).
    static func mount(_ record: LabRecord, injector: ChaosInjector) throws(LabError) {
        for (index, host) in record.hosts.enumerated() where !isMounted(state(host)) {
            injector.kill(daemon: index)
            try shell(["/usr/bin/mv", state(host), saved(host)])
            try shell(["/usr/bin/mkdir", state(host)])
            try shell(["/usr/bin/mount", "-t", "tmpfs", "-o", "size=\(size),mode=0700", "tmpfs", state(host)])
            try shell(["/usr/bin/cp", "-a", saved(host) + "/.", state(host)])
            _ = try injector.restart(daemon: index)
        }
    }

    /// Moves each host's state back to its directory and unmounts the tmpfs.
    static func unmount(_ record: LabRecord, injector: ChaosInjector) throws(LabError) {
        for (index, host) in record.hosts.enumerated() where isMounted(state(host)) {
            injector.kill(daemon: index)
            try? FileManager.default.removeItem(atPath: filler(host))
            try shell(["/usr/bin/cp", "-a", state(host) + "/.", saved(host)])
            try shell(["/usr/bin/umount", state(host)])
            try shell(["/usr/bin/rmdir", state(host)])
            try shell(["/usr/bin/mv", saved(host), state(host)])
            _ = try injector.restart(daemon: index)
        }
    }

    /// Fills the host's state disk; the bytes written.
    static func fill(_ host: LabRecord.Host) -> Int {
        guard let output = FileHandle(forWritingAtPath: filler(host)) ?? {
            FileManager.default.createFile(atPath: filler(host), contents: nil) ? FileHandle(forWritingAtPath: filler(host)) : nil
        }() else { return 0 }
        defer { try? output.close() }
        let block = Data(count: 1 << 20)
        var written = 0
        while written < 1 << 30, (try? output.write(contentsOf: block)) != nil { written += block.count }
        // The last partial block: down to the byte.
        var small = Data(count: 4096)
        while (try? output.write(contentsOf: small)) != nil { written += small.count }
        small = Data(count: 1)
        while (try? output.write(contentsOf: small)) != nil { written += 1 }
        return written
    }

    static func empty(_ host: LabRecord.Host) { try? FileManager.default.removeItem(atPath: filler(host)) }

    /// Whether `path` is a mount point (listed in /proc/mounts).
    static func isMounted(_ path: String) -> Bool {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
            .contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }

    /// Every mount under `directory` (a lab's), deepest first: `lab down` unmounts what a chaos run left.
    static func mounts(under directory: String) -> [String] {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }
            .filter { $0.hasPrefix(directory + "/") }.sorted { $0.count > $1.count }
    }

    static func shell(_ command: [String]) throws(LabError) {
        let result = try LabShell.run(command[0], Array(command.dropFirst()))
        guard result.status == 0 else {
            throw LabError("\(command.joined(separator: " ")): \(result.errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
