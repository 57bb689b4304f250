/// A standard Kubernetes status condition (`metav1.Condition`), so `kubectl wait --for=condition=Ready` and
/// `kubectl describe` work on MultiNIC's resources.
public struct Condition: Codable, Sendable, Hashable {
    /// `Ready`, `PoolsReady`, `RoutesReady`, …
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: ConditionStatus
    /// One CamelCase word a program may match on.
    public var reason: String
    /// What a human should know.
    public var message: String
    /// When `status` last changed (RFC 3339).
    public var lastTransitionTime: String
    /// The `metadata.generation` the condition was computed from.
    public var observedGeneration: Int64?

    public init(type: String, status: ConditionStatus, reason: String, message: String = "",
                lastTransitionTime: String = "", observedGeneration: Int64? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    /// `desired` with its transition time taken from `previous` when the status did not change, else `now`.
    public static func merge(_ desired: [Condition], previous: [Condition]?, now: String) -> [Condition] {
        desired.map { condition in
            var merged = condition
            let before = previous?.first { $0.type == condition.type }
            merged.lastTransitionTime = before.flatMap { $0.status == condition.status ? $0.lastTransitionTime : nil } ?? now
            return merged
        }
    }
}

/// A condition's status.
public enum ConditionStatus: String, Codable, Sendable, Hashable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}
