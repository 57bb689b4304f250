import Foundation
import MultiNICCore

/// The kernel's IPv4 neighbour (ARP) table is one table for every network namespace, limited by
/// `net.ipv4.neigh.default.gc_thresh3` (1024 by default) — per machine in a cluster, but shared here by every host and
/// pod of the lab. A ping mesh of a hundred pods on 4 NICs makes tens of thousands of entries within seconds; past the
/// limit the kernel refuses new ones ("neighbor table overflow") and pings fail that a real cluster would answer.
/// The lab raises the limits for such a burst and puts the old values back afterwards.
enum LabNeighbourTable {
    static let directory = "/proc/sys/net/ipv4/neigh/default"

    /// Makes room for `entries` new entries (the limits are only raised, never lowered); returns what puts the previous
    /// limits back (left alone when someone changed them meanwhile) and a line saying what was raised, or nil.
    static func reserve(entries: Int) -> (restore: @Sendable () -> Void, note: String?) {
        guard let soft = read("gc_thresh2"), let hard = read("gc_thresh3") else { return ({}, nil) }
        let needed = min(max(entries + 1024, 1024), 1 << 20)
        guard hard < needed else { return ({}, nil) }
        let newSoft = max(soft, needed / 2)
        guard write("gc_thresh3", needed), write("gc_thresh2", newSoft) else {
            _ = write("gc_thresh3", hard)
            return ({}, nil)
        }
        let restore: @Sendable () -> Void = {
            if read("gc_thresh2") == newSoft { _ = write("gc_thresh2", soft) }
            if read("gc_thresh3") == needed { _ = write("gc_thresh3", hard) }
        }
        return (restore, "neighbour table limit raised from \(hard) to \(needed) entries for the ping mesh (one table for every namespace)")
    }

    static func read(_ name: String) -> Int? {
        (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)).flatMap { Int($0.trimmedWhitespace) }
    }

    static func write(_ name: String, _ value: Int) -> Bool {
        // In place: /proc/sys takes no temporary file and rename.
        guard let handle = FileHandle(forWritingAtPath: directory + "/" + name) else { return false }
        defer { try? handle.close() }
        guard (try? handle.write(contentsOf: Data("\(value)\n".utf8))) != nil else { return false }
        return read(name) == value
    }
}
