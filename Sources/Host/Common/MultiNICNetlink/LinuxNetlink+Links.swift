#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore

/// Link changes for a native attach: a virtual link created on a master straight into a pod's namespace, then its
/// addresses and state set through a socket in that namespace (``NetworkNamespace/netlink(path:)``).
extension LinuxNetlink {
    /// Sends `requests` in one write, in order; throws the first one the kernel refused (the later ones were still
    /// tried: send only requests that stand on their own, or one at a time).
    public func perform(_ requests: [LinkRequest]) throws(NetlinkError) {
        guard !requests.isEmpty else { return }
        let failures = try socket.transact(requests.map { request in { request.build($0) } })
        if let first = failures.keys.min(), let code = failures[first] {
            throw .kernel(errno: code, request: requests[first].description)
        }
    }

    /// Creates `link` on its master (an index in this socket's namespace) directly inside the namespace at
    /// `namespacePath` (`/var/run/netns/<name>`, `/proc/<pid>/ns/net`). The link is down, without addresses.
    public func create(_ link: NewVirtualLink, inNamespaceAt namespacePath: String) throws(NetlinkError) {
        let descriptor = open(namespacePath, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .namespace("cannot open \(namespacePath): \(NetlinkError.text(errno))") }
        defer { close(descriptor) }
        try perform([.create(link, namespaceFD: descriptor)])
    }

    /// The link called `name` in this socket's namespace, if there is one: one `RTM_GETLINK` by name, not a dump
    /// of every link (a native attach asks once per NIC for its master).
    public func link(named name: String) throws(NetlinkError) -> LinkInfo? {
        guard LinuxInterfaceName.isValid(name) else { return nil }
        var found: LinkInfo?
        do {
            try socket.dump({ message in
                message.pointee.nlmsg_type = UInt16(RTM_GETLINK)
                let header = mnl_nlmsg_put_extra_header(message, MemoryLayout<ifinfomsg>.size)?.assumingMemoryBound(to: ifinfomsg.self)
                header?.pointee.ifi_family = UInt8(AF_UNSPEC)
                mnl_attr_put_strz(message, UInt16(IFLA_IFNAME), name)
            }, dump: false, handle: { message in
                if let link = NetlinkMessages.parseLink(message), link.name == name { found = link }
            })
        } catch .kernel(errno: ENODEV, request: _) {
            return nil
        }
        return found
    }
}
