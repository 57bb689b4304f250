#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore
import Synchronization

/// Netlink sockets in other network namespaces. A socket belongs to the namespace it is created in, so it is
/// created on a dedicated thread that first switches into the namespace (never on a Swift-concurrency thread, which
/// would leak the namespace into unrelated tasks); the thread then ends and the socket is used from anywhere.
public enum NetworkNamespace {
    /// A ``LinuxNetlink`` for the namespace at `path` (e.g. `/var/run/netns/lab-host1`).
    public static func netlink(path: String) throws(NetlinkError) -> LinuxNetlink {
        LinuxNetlink(socket: try socket(path: path, groups: 0))
    }

    /// Runs `body` on a thread of its own that first entered the namespace at `path` (a socket it makes belongs
    /// there); false, without running it, when the namespace cannot be entered.
    public static func run(inNamespaceAt path: String, _ body: @escaping () -> Void) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let entered = Mutex(false)
        let finished = OSThread.runAndWait {
            guard setns(descriptor, multinic_clone_newnet()) == 0 else { return }
            entered.withLock { $0 = true }
            body()
        }
        return finished && entered.withLock { $0 }
    }

    /// Opens a netlink socket inside the namespace at `path`, subscribed to `groups`.
    static func socket(path: String, groups: UInt32) throws(NetlinkError) -> NetlinkSocket {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .namespace("cannot open \(path): \(NetlinkError.text(errno))") }
        defer { close(descriptor) }
        let result = Mutex<Result<NetlinkSocket, NetlinkError>>(.failure(.namespace("no result")))
        let finished = OSThread.runAndWait {
            guard setns(descriptor, multinic_clone_newnet()) == 0 else {
                let reason = NetlinkError.text(errno)
                result.withLock { $0 = .failure(.namespace("setns \(path): \(reason)")) }
                return
            }
            do throws(NetlinkError) {
                let socket = try NetlinkSocket(groups: groups)
                result.withLock { $0 = .success(socket) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        guard finished else { throw .namespace("cannot start a thread to enter \(path)") }
        return try result.withLock { $0 }.get()
    }
}
