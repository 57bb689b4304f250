/// The kernel's rule for a network interface name (`dev_valid_name`): 1 to 15 bytes, no `/`, `:` or whitespace (nor
/// control characters), not `.` or `..`. Checked wherever a name from outside becomes a link name.
public enum LinuxInterfaceName {
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), name != ".", name != ".." else { return false }
        return !bytes.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") || $0 <= 32 || $0 == 127 }
    }

    /// Whether `name` is one of the per-NIC interfaces of pod interface `ifName`: `net1-0`, `net1-12` for `net1`.
    public static func isPerNIC(_ name: String, of ifName: String) -> Bool {
        guard name.hasPrefix(ifName + "-") else { return false }
        let suffix = name.dropFirst(ifName.count + 1)
        return !suffix.isEmpty && suffix.allSatisfy { $0 >= "0" && $0 <= "9" }
    }
}
