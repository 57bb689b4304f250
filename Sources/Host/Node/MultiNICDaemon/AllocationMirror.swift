import Foundation
import MultiNICCore
import MultiNICIPAM
import Synchronization

/// Where the node's allocations are mirrored for the cluster to see (IPPool `spec.allocations`). The journal is
/// the truth; the mirror is written asynchronously and never on the allocation path.
public protocol AllocationMirror: Sendable {
    /// The current allocations of these pools (the others did not change).
    func publish(_ allocations: [String: [Allocation]]) async
}

/// Writes each pool's allocations to `<directory>/<pool>.json` (the lab's stand-in for the IPPool resources).
public struct FileAllocationMirror: AllocationMirror {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    public func publish(_ allocations: [String: [Allocation]]) async {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A pool name becomes a file name: only safe names (pools are checked when they arrive; this is the last line).
        for (pool, entries) in allocations where SafeName.isValid(pool) {
            // One entry per line, each encoded alone: encoding the whole array at once builds a tree of every entry
            // first (megabytes for a pool of thousands).
            var data = Data("[".utf8)
            var complete = true
            for (index, entry) in entries.enumerated() {
                guard let line = try? encoder.encode(entry) else {
                    complete = false
                    break
                }
                data.append(contentsOf: Array((index == 0 ? "\n" : ",\n").utf8))
                data.append(line)
            }
            guard complete else { continue }
            data.append(contentsOf: Array("\n]\n".utf8))
            try? data.write(to: URL(fileURLWithPath: "\(directory)/\(pool).json"), options: .atomic)
        }
    }
}

/// Coalesces mirror updates: many allocations in a burst become one publish per pool, off the request path.
final class MirrorPublisher: Sendable {
    private let mirror: any AllocationMirror
    private let pending = Mutex<(pools: Set<String>, scheduled: Bool)>(([], false))

    init(mirror: any AllocationMirror) {
        self.mirror = mirror
    }

    /// Marks pools as changed; a publish of their state (read from `state` when it runs) follows shortly.
    func changed(_ pools: Set<String>, state: @escaping @Sendable () -> IPAMState) {
        let start = pending.withLock { pending -> Bool in
            pending.pools.formUnion(pools)
            if pending.scheduled { return false }
            pending.scheduled = true
            return true
        }
        guard start else { return }
        Task.detached { [self] in
            try? await Task.sleep(for: .milliseconds(100))
            let pools = pending.withLock { pending -> Set<String> in
                pending.scheduled = false
                defer { pending.pools = [] }
                return pending.pools
            }
            let current = state()
            var allocations: [String: [Allocation]] = [:]
            for pool in pools {
                allocations[pool] = current.leases(inPool: pool).map { lease in
                    Allocation(pod: lease.pod.name, namespace: lease.pod.namespace, index: 0, address: lease.address.description,
                               containerID: lease.key.containerID, ifName: lease.key.ifName, podUID: lease.pod.uid)
                }
            }
            await mirror.publish(allocations)
            // The encoding's garbage (megabytes for a pool of thousands) goes back to the kernel.
            MemoryTrim.releaseFreePages()
        }
    }
}
