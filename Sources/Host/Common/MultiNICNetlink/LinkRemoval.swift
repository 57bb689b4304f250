#if canImport(Glibc)
import Glibc
#endif
import CMNL
import MultiNICCore
import Synchronization

/// Link deletion that returns when the links are gone, not when the kernel has finished freeing them.
///
/// The kernel unlists a deleted link, flushes its addresses and routes, frees its name and announces `RTM_DELLINK`
/// within a millisecond or two. It then waits for every pending RCU callback (`rcu_barrier` in `netdev_run_todo`)
/// before it acknowledges the request. That wait takes 10–40 ms and holds no lock anyone else needs. So the request is
/// sent from a thread of its own, and the caller returns when a link monitor in the same namespace has seen
/// `RTM_DELLINK` for every link. The thread finishes the request in the background.
///
/// At most ``maximumInFlight`` such threads exist at once. Past that, or when the monitor cannot be opened, the
/// caller waits for the acknowledgement as before.
enum LinkRemoval {
    /// Deletion requests still waiting for their acknowledgement in the background.
    static let inFlight = Atomic<Int>(0)
    /// Cap on ``inFlight``: a DEL storm never parks more threads than this in the kernel.
    static let maximumInFlight = 16
    /// How long to wait for the announcements or the acknowledgement before giving up.
    static let timeoutMilliseconds: Int32 = 30_000

    /// Runs `deletion` (which deletes the links with indices `indices` in the namespace at `namespacePath`) and
    /// returns once each of them is announced deleted, or once `deletion` has returned, whichever comes first.
    /// `deletion`'s error is thrown when it fails before every link is announced deleted.
    static func remove(indices: Set<Int32>, inNamespaceAt namespacePath: String,
                       by deletion: @escaping @Sendable () throws(NetlinkError) -> Void) throws(NetlinkError) {
        guard !indices.isEmpty, claimSlot() else { return try deletion() }
        let monitor: NetlinkSocket
        do {
            monitor = try NetworkNamespace.socket(path: namespacePath, groups: UInt32(RTMGRP_LINK))
        } catch {
            releaseSlot()
            return try deletion()
        }
        guard let completion = Completion() else {
            releaseSlot()
            return try deletion()
        }
        let started = OSThread.detach {
            let outcome = Result { () throws(NetlinkError) in try deletion() }
            completion.finish(outcome)
            releaseSlot()
        }
        guard started else {
            releaseSlot()
            return try deletion()
        }
        try wait(for: indices, on: monitor, or: completion)
    }

    private static func wait(for indices: Set<Int32>, on monitor: NetlinkSocket, or completion: Completion) throws(NetlinkError) {
        var pending = indices
        var pollers = [pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: completion.readDescriptor, events: Int16(POLLIN), revents: 0)]
        while !pending.isEmpty {
            let ready = poll(&pollers, 2, timeoutMilliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { throw .namespace("link deletion not finished after \(timeoutMilliseconds / 1000) s") }
            if let outcome = completion.outcome { return try outcome.get() }
            if pollers[0].revents != 0 {
                _ = try monitor.receive(timeoutMilliseconds: 0) { message in
                    guard message.pointee.nlmsg_type == UInt16(RTM_DELLINK),
                          let payload = mnl_nlmsg_get_payload(message) else { return }
                    pending.remove(payload.assumingMemoryBound(to: ifinfomsg.self).pointee.ifi_index)
                }
            }
        }
    }

    private static func claimSlot() -> Bool {
        if inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= maximumInFlight { return true }
        releaseSlot()
        return false
    }

    private static func releaseSlot() {
        inFlight.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    }

    /// The background request's outcome, and a pipe that becomes readable when it is there. Closed by whoever lets
    /// go of it last.
    private final class Completion: Sendable {
        let readDescriptor: Int32
        private let writeDescriptor: Int32
        private let result = Mutex<Result<Void, NetlinkError>?>(nil)

        init?() {
            var descriptors: [Int32] = [-1, -1]
            guard pipe(&descriptors) == 0 else { return nil }
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            readDescriptor = descriptors[0]
            writeDescriptor = descriptors[1]
        }

        deinit {
            close(readDescriptor)
            close(writeDescriptor)
        }

        var outcome: Result<Void, NetlinkError>? { result.withLock { $0 } }

        func finish(_ outcome: Result<Void, NetlinkError>) {
            result.withLock { $0 = outcome }
            var byte: UInt8 = 1
            _ = write(writeDescriptor, &byte, 1)
        }
    }
}
