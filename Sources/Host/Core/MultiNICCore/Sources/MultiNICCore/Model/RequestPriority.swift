/// How urgent the API requests of the current task are. A client with a shared request budget serves `foreground`
/// requests first: `background` work (the IPPool mirror: thousands of writes nothing waits for) takes a token only
/// when no foreground request is waiting, so it never delays what makes a network usable (CIDR, NAD, status).
public enum RequestPriority: Sendable, Hashable {
    case foreground
    case background

    /// The priority of the current task (foreground unless a caller set it).
    @TaskLocal public static var current: RequestPriority = .foreground
}
