#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import MultiNICCore
import Synchronization

/// Appends framed records to the journal file and makes them durable with group commit: records appended while
/// an fsync is running are written and synced together by the next one, so concurrent requests share fsyncs.
/// All file I/O happens on one dispatch queue, never on a Swift-concurrency thread and never under the caller's
/// lock. A compaction swaps in a new file holding a snapshot by atomic rename.
final class JournalWriter: Sendable {
    private struct State {
        var descriptor: Int32
        var pending: [UInt8] = []
        /// Sequence number of the last appended record, and of the last durable one.
        var appended: UInt64 = 0
        var durable: UInt64 = 0
        var flushing = false
        /// The next flush writes a fresh file (its first bytes are a snapshot) and renames it over the journal.
        var rotate = false
        var fileSize: Int
        /// Size of the snapshot the current file started with (0 when it did not start with one).
        var baseSize = 0
        var waiters: [(sequence: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: IPAMError?
        /// Records dropped by ``resetAfterFailure()`` (never written): waiting for one of them fails.
        var lost: [ClosedRange<UInt64>] = []
    }

    let path: String
    private let directory: String
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "multinic.ipam.journal")
    /// Number of fsyncs done (for metrics and tests of group commit).
    let syncCount = Atomic<Int>(0)
    /// Total time spent writing and syncing, in nanoseconds.
    let syncNanoseconds = Atomic<Int>(0)

    /// Told the duration of every write and sync.
    private let onSync: @Sendable (Duration) -> Void

    /// Opens (creating) the journal for appending; `validLength` bytes are kept, anything after is cut off.
    init(path: String, directory: String, validLength: Int, onSync: @escaping @Sendable (Duration) -> Void = { _ in }) throws(IPAMError) {
        self.path = path
        self.directory = directory
        self.onSync = onSync
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storage("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard ftruncate(descriptor, off_t(validLength)) == 0, lseek(descriptor, off_t(validLength), SEEK_SET) >= 0,
              fdatasync(descriptor) == 0
        else {
            close(descriptor)
            throw .storage("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        state = Mutex(State(descriptor: descriptor, fileSize: validLength))
    }

    deinit {
        _ = state.withLock { close($0.descriptor) }
    }

    /// Queues bytes; returns their sequence number. Call under the owner's state lock to keep journal order equal
    /// to state order.
    func append(_ frame: [UInt8]) -> UInt64 {
        state.withLock { state in
            state.pending += frame
            state.appended += 1
            return state.appended
        }
    }

    /// Sequence number of the last appended record.
    var lastAppended: UInt64 { state.withLock { $0.appended } }

    /// True when the journal has grown past `threshold` and past twice the snapshot it started with, so that
    /// compaction pays off (a large state does not trigger a compaction on every append).
    func wantsCompaction(threshold: Int) -> Bool {
        state.withLock { !$0.rotate && $0.fileSize > max(threshold, 2 * $0.baseSize) }
    }

    /// Replaces everything not yet written by `snapshotFrame` and makes the next flush start a new file with it.
    /// Call under the owner's state lock with a snapshot of that state.
    func compact(with snapshotFrame: [UInt8]) -> UInt64 {
        state.withLock { state in
            state.pending = snapshotFrame
            state.rotate = true
            state.appended += 1
            return state.appended
        }
    }

    /// Returns once everything up to `sequence` is on disk. The first waiter with nothing in flight starts the
    /// flusher; later ones ride on its next fsync.
    func waitDurable(_ sequence: UInt64) async throws(IPAMError) {
        enum Decision {
            case done
            case failed(IPAMError)
            case wait(startFlusher: Bool)
        }
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let decision: Decision = state.withLock { state in
                    if let failure = state.failure { return .failed(failure) }
                    if state.lost.contains(where: { $0.contains(sequence) }) {
                        return .failed(.journal("the write of this change failed (the journal was reset to what is on disk)"))
                    }
                    if state.durable >= sequence { return .done }
                    state.waiters.append((sequence, continuation))
                    if state.flushing { return .wait(startFlusher: false) }
                    state.flushing = true
                    return .wait(startFlusher: true)
                }
                switch decision {
                case .done: continuation.resume()
                case .failed(let error): continuation.resume(throwing: error)
                case .wait(let start): if start { queue.async { self.flushLoop() } }
                }
            }
        } catch let error as IPAMError {
            throw error
        } catch {
            throw .journal("\(error)")
        }
    }

    /// After a failed write (a full disk, an I/O error): cuts the file back to what was durable, drops every record
    /// not written (their waiters fail), and accepts writes again. Returns false when there was no failure to reset
    /// (another caller did it) or the file cannot be cut back (the failure stays). Call under the owner's state lock,
    /// then rebuild the owner's state from the file.
    func resetAfterFailure() -> Bool {
        state.withLock { state in
            guard state.failure != nil, !state.flushing else { return false }
            guard ftruncate(state.descriptor, off_t(state.fileSize)) == 0, lseek(state.descriptor, off_t(state.fileSize), SEEK_SET) >= 0,
                  fdatasync(state.descriptor) == 0 else { return false }
            _ = unlink(path + ".new")
            if state.appended > state.durable { state.lost.append((state.durable + 1)...state.appended) }
            state.pending = []
            state.rotate = false
            state.durable = state.appended
            state.failure = nil
            return true
        }
    }

    /// Writes and syncs batches until nothing is pending (runs on `queue`).
    private func flushLoop() {
        while true {
            let batch: (bytes: [UInt8], target: UInt64, rotate: Bool, descriptor: Int32)? = state.withLock { state in
                guard !state.pending.isEmpty else {
                    state.flushing = false
                    return nil
                }
                let batch = (state.pending, state.appended, state.rotate, state.descriptor)
                state.pending = []
                state.rotate = false
                return batch
            }
            guard let batch else { return }
            let clock = ContinuousClock()
            let started = clock.now
            let outcome = batch.rotate ? rotate(to: batch.bytes) : write(batch.bytes, to: batch.descriptor)
            let duration = clock.now - started
            let elapsed = duration.components
            syncNanoseconds.add(Int(elapsed.seconds) * 1_000_000_000 + Int(elapsed.attoseconds / 1_000_000_000), ordering: .relaxed)
            syncCount.add(1, ordering: .relaxed)
            onSync(duration)
            let ready: [CheckedContinuation<Void, any Error>] = state.withLock { state in
                switch outcome {
                case .success(let descriptor):
                    if descriptor != state.descriptor {
                        close(state.descriptor)
                        state.descriptor = descriptor
                        state.fileSize = batch.bytes.count
                        state.baseSize = batch.bytes.count
                    } else {
                        state.fileSize += batch.bytes.count
                    }
                    state.durable = batch.target
                case .failure(let error):
                    // Not flushing from here on, in the same step: a caller told of the failure can reset at once.
                    state.failure = error
                    state.flushing = false
                }
                let done = state.waiters.filter { state.failure != nil || $0.sequence <= state.durable }
                state.waiters.removeAll { state.failure != nil || $0.sequence <= state.durable }
                return done.map(\.continuation)
            }
            for continuation in ready {
                if case .failure(let error) = outcome { continuation.resume(throwing: error) } else { continuation.resume() }
            }
            if case .failure = outcome { return }
        }
    }

    private func write(_ bytes: [UInt8], to descriptor: Int32) -> Result<Int32, IPAMError> {
        if let failure = FileIO.writeAll(bytes, to: descriptor) {
            return .failure(.journal("write: \(String(cString: strerror(failure)))"))
        }
        guard fdatasync(descriptor) == 0 else { return .failure(.journal("fdatasync: \(String(cString: strerror(errno)))")) }
        return .success(descriptor)
    }

    /// Writes `bytes` (starting with a snapshot) to `<path>.new`, syncs it, renames it over the journal and syncs
    /// the directory, so a crash leaves either the old or the new journal, never a mix.
    private func rotate(to bytes: [UInt8]) -> Result<Int32, IPAMError> {
        let temporary = path + ".new"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return .failure(.journal("open \(temporary): \(String(cString: strerror(errno)))")) }
        if let failure = FileIO.writeAll(bytes, to: descriptor) {
            close(descriptor)
            return .failure(.journal("write: \(String(cString: strerror(failure)))"))
        }
        guard fsync(descriptor) == 0, rename(temporary, path) == 0 else {
            close(descriptor)
            return .failure(.journal("replace \(path): \(String(cString: strerror(errno)))"))
        }
        FileIO.syncDirectory(directory)
        return .success(descriptor)
    }
}
