import MultiNICDaemonClient

extension DaemonClientError {
    /// The CNI error this becomes: an unreachable or saturated (503) daemon is "try again later" (11).
    public var cniError: CNIError {
        switch self {
        case .unreachable: CNIError(CNIError.tryAgainLater, "multi-nicd unreachable", details: description)
        case .rejected(let status, _) where status == 409 || status == 503: CNIError(CNIError.tryAgainLater, description)
        case .rejected(let status, _) where status == 403: CNIError(CNIError.forbidden, description)
        case .rejected, .badAnswer: CNIError(CNIError.ioFailure, description)
        }
    }
}
