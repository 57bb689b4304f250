// Node-local IPAM throughput: durable allocations per second in-process, with concurrent callers sharing fsyncs.
// Usage: ipam-bench [allocations] [concurrency]
import Foundation
import MultiNICCore
import MultiNICIPAM

let total = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 50_000 : 50_000
let concurrency = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 64 : 64
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-ipam-bench-\(UUID())").path
defer { try? FileManager.default.removeItem(atPath: directory) }

let service = try IPAMService(directory: directory, quarantineSeconds: 0)
try await service.setPools([PoolBlock(name: "p", network: "net", interfaceName: "eth1",
                                      podCIDR: IPNetwork("10.0.0.0/14")!, podPrefix: 14)])
let clock = ContinuousClock()
let start = clock.now
try await withThrowingTaskGroup(of: Void.self) { group in
    for worker in 0..<concurrency {
        group.addTask {
            for index in stride(from: worker, to: total, by: concurrency) {
                _ = try await service.allocate(network: "net", containerID: "c\(index)", pod: PodRef(),
                                               requests: [AllocationRequest(ifName: "net1-0", pool: "p")])
            }
        }
    }
    try await group.waitForAll()
}
let elapsed = clock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let reopenStart = clock.now
let reopened = try IPAMService(directory: directory, quarantineSeconds: 0)
let reopen = clock.now - reopenStart
precondition(reopened.current.leases.count == total)
print("IPAM in-process: \(total) durable allocations, \(concurrency) concurrent callers: "
    + "\(Int(Double(total) / seconds)) allocations/s, \(service.syncCount) fsyncs "
    + "(\(String(format: "%.1f", Double(total) / Double(max(service.syncCount, 1)))) per fsync); restart with \(total) leases: \(reopen)")
