// A process that allocates and releases addresses as fast as it can and prints every acknowledged result, for the
// crash test: it is killed with SIGKILL at a random moment and the journal must still hold every acknowledgement.
// Usage: IPAMCrashHelper <state-dir> <round>
import Foundation
import MultiNICCore
import MultiNICIPAM

func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let round = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: IPAMCrashHelper <state-dir> <round>\n".utf8))
    exit(2)
}
let started = Date()
let service = try IPAMService(directory: arguments[1], quarantineSeconds: 0, compactionThreshold: 64 << 10)
emit("OPEN \(Int(Date().timeIntervalSince(started) * 1000)) \(service.current.leases.count)")
let pools = [
    PoolBlock(name: "v4", network: "net", interfaceName: "eth1", podCIDR: IPNetwork("10.8.0.0/16")!, podPrefix: 16),
    PoolBlock(name: "v6", network: "net", interfaceName: "eth2", podCIDR: IPNetwork("fd00:8::/112")!, podPrefix: 112),
]
try await service.setPools(pools)
await withTaskGroup(of: Void.self) { group in
    for worker in 0..<8 {
        group.addTask {
            var index = 0
            while true {
                index += 1
                let container = "r\(round)-w\(worker)-\(index)"
                do {
                    let leases = try await service.allocate(
                        network: "net", containerID: container, pod: PodRef(uid: container),
                        requests: [AllocationRequest(ifName: "net1-0", pool: "v4"), AllocationRequest(ifName: "net1-1", pool: "v6")])
                    emit("ACK \(container) \(leases.map(\.address.description).joined(separator: " "))")
                    if index % 3 == 0 {
                        _ = try await service.release(containerID: container)
                        emit("REL \(container)")
                    }
                } catch {
                    emit("ERR \(container) \(error)")
                    return
                }
            }
        }
    }
}
