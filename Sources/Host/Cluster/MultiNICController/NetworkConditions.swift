import MultiNICCore

/// The network's standard conditions, pure: `PoolsReady` (validated, rendered, NADs/CIDR/IPPools written),
/// `RoutesReady` (every host's route push answered) and `Ready` (both).
public enum NetworkConditions {
    public static let ready = "Ready"
    public static let poolsReady = "PoolsReady"
    public static let routesReady = "RoutesReady"

    /// Why the network is not rendered, when it is not.
    public enum Failure: Sendable, Hashable {
        /// The spec is invalid: the user must change it.
        case invalid(String)
        /// Rendering or writing failed: retried.
        case renderFailed(String)
        /// The original project's controller still manages a network of this name (``LegacyOwner``).
        case ownedElsewhere(String)
    }

    /// The conditions for one status; transition times are filled by ``Condition/merge(_:previous:now:)``.
    public static func compute(failure: Failure?, routeStatus: RouteStatus, routeMessage: String?,
                               generation: Int64?) -> [Condition] {
        let pools: Condition
        switch failure {
        case .invalid(let message)?:
            pools = Condition(type: poolsReady, status: .false, reason: "InvalidNetwork", message: message)
        case .renderFailed(let message)?:
            pools = Condition(type: poolsReady, status: .false, reason: "RenderFailed", message: message)
        case .ownedElsewhere(let message)?:
            pools = Condition(type: poolsReady, status: .false, reason: "OwnedByMultiNicCNI", message: message)
        case nil:
            pools = Condition(type: poolsReady, status: .true, reason: "Rendered",
                              message: "NetworkAttachmentDefinitions, CIDR and IPPools are written")
        }
        let routes: Condition
        switch routeStatus {
        case .notApplicable:
            routes = Condition(type: routesReady, status: .true, reason: "NotRequired", message: "vlanMode needs no host routes")
        case .success:
            routes = Condition(type: routesReady, status: .true, reason: "RoutesApplied", message: "every host has its routes")
        case .waitForRoutes, .unknown:
            routes = Condition(type: routesReady, status: failure == nil ? .unknown : .false, reason: "WaitingForHosts",
                               message: "not every host has answered the route push yet")
        case .failed:
            routes = Condition(type: routesReady, status: .false, reason: "RouteFailed", message: routeMessage ?? "")
        }
        let overall: Condition
        if pools.status != .true {
            overall = Condition(type: ready, status: .false, reason: pools.reason, message: pools.message)
        } else if routes.status != .true {
            overall = Condition(type: ready, status: routes.status == .unknown ? .unknown : .false, reason: routes.reason,
                                message: routes.message)
        } else {
            overall = Condition(type: ready, status: .true, reason: "Ready", message: "pods can attach on every host")
        }
        return [overall, pools, routes].map { condition in
            var stamped = condition
            stamped.observedGeneration = generation
            return stamped
        }
    }
}
