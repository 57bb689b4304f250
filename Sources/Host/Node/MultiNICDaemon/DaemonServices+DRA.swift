import Foundation
import MultiNICCore
import MultiNICDRA

/// DRA mode: the node's NICs as devices for the scheduler (``ResourceSlicePlan``).
extension DaemonServices {
    /// One device per NIC the daemon offers (a NIC lent whole to a pod is not offered), with the free addresses and
    /// the networks of its pools.
    public func draDevices() throws(DaemonError) -> [DRADevice] {
        let offered = try interfaces().filter { $0.inUse != true }
        let state = ipam.current
        let now = Date().timeIntervalSince1970
        let names = DRADevice.names(for: offered.map(\.interfaceName))
        return zip(offered, names).map { interface, name in
            let pools = state.pools.values.filter { $0.interfaceName == interface.interfaceName }
            let free = pools.reduce(0) { total, pool in
                // Resting (quarantined) addresses are given when nothing else is free: they count as free.
                let usage = state.usage(pool: pool.name, now: now)
                let left = usage.capacity > UInt128(usage.inUse) ? usage.capacity - UInt128(usage.inUse) : 0
                return total + Int(min(left, UInt128(Int32.max)))
            }
            let rdma = FileManager.default.fileExists(
                atPath: configuration.sysfsRoot + "/class/net/" + interface.interfaceName + "/device/infiniband")
            let facts = DRADevice.NICFacts(rdma: rdma, freeAddresses: free, networks: Array(Set(pools.map(\.network))),
                                             multusResourceName: configuration.draDriver.map(DRANames.multusResourceName(driver:)))
            return DRADevice(interface: interface, facts: facts, name: name)
        }
    }
}
