/// Names DRA mode's parts share: the daemon publishes ResourceSlices, the operator removes those of departed nodes.
public enum DRANames {
    /// The driver's default name.
    public static let defaultDriver = "multinic.cogadvisor.io"
    /// The label on every ResourceSlice multi-nicd publishes.
    public static let sliceLabels = ["app.kubernetes.io/managed-by": "multi-nicd"]
}
