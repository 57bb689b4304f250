#if canImport(Glibc)
import Glibc
#endif
import CMNL
import Foundation

/// Netlink sockets in other network namespaces. A socket belongs to the namespace it is created in, so it is
/// created on a dedicated thread that first switches into the namespace (never on a Swift-concurrency thread, which
/// would leak the namespace into unrelated tasks); the thread then ends and the socket is used from anywhere.
public enum NetworkNamespace {
    /// A ``LinuxNetlink`` for the namespace at `path` (e.g. `/var/run/netns/lab-host1`).
    public static func netlink(path: String) throws(NetlinkError) -> LinuxNetlink {
        LinuxNetlink(socket: try socket(path: path, groups: 0))
    }

    /// Opens a netlink socket inside the namespace at `path`, subscribed to `groups`.
    static func socket(path: String, groups: UInt32) throws(NetlinkError) -> NetlinkSocket {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .namespace("cannot open \(path): \(NetlinkError.text(errno))") }
        defer { close(descriptor) }
        let result = ThreadResult()
        let thread = Thread {
            guard setns(descriptor, multinic_clone_newnet()) == 0 else {
                result.set(.failure(.namespace("setns \(path): \(NetlinkError.text(errno))")))
                return
            }
            do {
                result.set(.success(try NetlinkSocket(groups: groups)))
            } catch {
                result.set(.failure(error as? NetlinkError ?? .socket("\(error)")))
            }
        }
        thread.start()
        return try result.wait().get()
    }

    /// A one-shot handoff from the namespace thread.
    private final class ThreadResult: @unchecked Sendable {
        // @unchecked: `value` is written once before `semaphore` is signalled and read after waiting on it.
        private var value: Result<NetlinkSocket, NetlinkError>?
        private let semaphore = DispatchSemaphore(value: 0)

        func set(_ value: Result<NetlinkSocket, NetlinkError>) {
            self.value = value
            semaphore.signal()
        }

        func wait() -> Result<NetlinkSocket, NetlinkError> {
            semaphore.wait()
            return value ?? .failure(.namespace("no result"))
        }
    }
}
