/// Which `CNI_NETNS` paths the node daemon opens for a native attach: the places container runtimes put pod network
/// namespaces — `/var/run/netns/<name>` and `/run/netns/<name>` (containerd, CRI-O, `ip netns`),
/// `/var/run/docker/netns/<id>` and `/proc/<pid>/ns/net`. Anything else (a path with `..`, another file) is not
/// opened by the daemon; such a pod keeps the delegate path, where the reference plugins judge the path themselves.
public enum NetworkNamespacePath {
    public static func isAcceptable(_ path: String) -> Bool {
        guard path.utf8.count <= 255 else { return false }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.first == "", !parts.dropFirst().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else { return false }
        let directories: [[String]] = [["var", "run", "netns"], ["run", "netns"], ["var", "run", "docker", "netns"]]
        for directory in directories where parts.count == directory.count + 2 && Array(parts[1...directory.count]) == directory {
            return isName(parts[directory.count + 1])
        }
        // /proc/<pid>/ns/net
        return parts.count == 5 && parts[1] == "proc" && !parts[2].isEmpty && parts[2].utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
            && parts[3] == "ns" && parts[4] == "net"
    }

    /// A namespace file name: letters, digits, `-`, `_`, `.` (not only dots).
    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128 && name.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
