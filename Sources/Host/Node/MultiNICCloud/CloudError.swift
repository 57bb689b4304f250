/// Why a cloud API call failed.
public enum CloudError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No credentials: neither the environment nor the instance metadata service has any.
    case noCredentials(String)
    /// The region is unknown (no `--ec2-region`, `AWS_REGION`, and no answer from the instance metadata service).
    case noRegion(String)
    /// The API answered with an error (`code` from the response, e.g. `InvalidParameterValue`).
    case api(status: Int, code: String, message: String)
    /// Throttled or unavailable after every retry.
    case throttled(attempts: Int, last: String)
    /// No answer (connection, timeout).
    case transport(String)
    /// No ENI has the NIC's MAC address.
    case noInterface(mac: String)

    public var description: String {
        switch self {
        case .noCredentials(let why): "no AWS credentials: \(why)"
        case .noRegion(let why): "no AWS region: \(why)"
        case .api(let status, let code, let message): "EC2 answered \(status) \(code): \(message)"
        case .throttled(let attempts, let last): "EC2 throttled every one of \(attempts) attempts (last: \(last))"
        case .transport(let why): "EC2 unreachable: \(why)"
        case .noInterface(let mac): "no EC2 network interface has MAC address \(mac)"
        }
    }

    /// Whether a later attempt may succeed (the daemon answers 503 with a retry hint then).
    public var isTransient: Bool {
        switch self {
        case .throttled, .transport: true
        case .api(let status, _, _): status >= 500
        default: false
        }
    }
}
