import MultiNICController
import MultiNICCore

/// N in-process daemons with two NICs each: they answer /interface, take pools and acknowledge route sets.
public actor SimulatedFleet: DaemonFleet {
    public let count: Int
    public private(set) var pools: [String: Int] = [:]
    public private(set) var routes: [String: Int] = [:]
    public private(set) var poolPushes = 0
    public private(set) var routePushes = 0

    public init(count: Int) { self.count = count }

    public static func name(_ index: Int) -> String { "node-\(index)" }

    public func nodes() -> [String] { (0..<count).map(Self.name) }

    public func interfaces(node: String) -> [InterfaceInfo] {
        let index = Int(node.dropFirst(5)) ?? 0
        return (1...2).map { nic in
            InterfaceInfo(interfaceName: "eth\(nic)", netAddress: "10.\(nic).0.0/16",
                          hostIP: "10.\(nic).\(index / 250).\(index % 250 + 1)", vendor: "15b3", product: "1017")
        }
    }

    public func setPools(node: String, _ pools: [IPPool]) {
        self.pools[node] = pools.count
        poolPushes += 1
    }

    public func setRoutes(node: String, _ request: L3Request) -> L3Response {
        routes[node] = request.routes.count
        routePushes += 1
        return L3Response(success: true, msg: "")
    }

    public func deleteRoutes(node: String, network: String) { routes[node] = nil }

    public func podLeases(node: String) -> PodLeaseSnapshot { PodLeaseSnapshot(takenAt: 0, pods: []) }

    public func releasePods(node: String, _ request: PodReleaseRequest) -> [IPAllocation] { [] }

    public func complete(expectedRoutes: Int) -> Bool {
        pools.count == count && pools.values.allSatisfy { $0 == 2 } && routes.count == count
            && routes.values.allSatisfy { $0 == expectedRoutes }
    }
}
