/// This release: the image tags deploy/ and the default Config name (never `latest`, so a node pulls what the
/// manifests say and a rollout is a change of tag).
public enum MultiNICRelease {
    public static let version = "2.0.0"
    /// The image tag of this release.
    public static let imageTag = "v" + version
    /// The daemon image the default Config names.
    public static let daemonImage = "ghcr.io/multinic/multi-nicd:" + imageTag
    /// The operator image (it also carries multinicctl and iperf3 for the connection check).
    public static let operatorImage = "ghcr.io/multinic/multi-nic-cni-operator:" + imageTag
}
