/// Names DRA mode's parts share: the daemon publishes ResourceSlices, the operator removes those of departed nodes.
public enum DRANames {
    /// The driver's default name.
    public static let defaultDriver = "multinic.cogadvisor.io"
    /// The label on every ResourceSlice multi-nicd publishes.
    public static let sliceLabels = ["app.kubernetes.io/managed-by": "multi-nicd"]

    /// The device attribute Multus reads a claimed device's ID from; it hands that ID to the network's CNI config
    /// (`deviceID`) when the NAD's `k8s.v1.cni.cncf.io/resourceName` equals the device's ``multusResourceNameAttribute``.
    public static let multusDeviceIDAttribute = "k8s.cni.cncf.io/deviceID"
    /// The device attribute Multus matches against a NAD's `k8s.v1.cni.cncf.io/resourceName`.
    public static let multusResourceNameAttribute = "k8s.cni.cncf.io/resourceName"

    /// The resource name of a driver's NICs for Multus (device attribute and NAD annotation): `<driver>/nic`.
    public static func multusResourceName(driver: String) -> String { driver + "/nic" }
}
