/// The token audience of one node's daemon: the operator requests its service-account tokens for it
/// (TokenRequest) and the daemon accepts only its own (TokenReview), so a token seen on one node is worth nothing on
/// another.
public enum DaemonAudience {
    /// `multi-nicd:<node>`.
    public static func of(node: String) -> String { "multi-nicd:" + node }
}
