#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import Synchronization

/// A small JSON file of the daemon's state (lent NICs, IPAMClaim holders, pending cloud unassignments) and its value
/// in memory. A change is written durably (temporary file, fsync, rename) before it takes effect in memory; one that
/// changes nothing writes nothing.
final class DurableRecord<Value: Codable & Equatable & Sendable>: Sendable {
    let path: String
    private let value: Mutex<Value>

    /// The file's value, or `empty` when it is absent or unreadable.
    init(path: String, empty: Value) {
        self.path = path
        value = Mutex(FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(Value.self, from: $0) } ?? empty)
    }

    var current: Value { value.withLock { $0 } }

    /// Applies `body` to a copy and keeps it once written; `body`'s result either way. Throws the write's failure.
    func change<T>(_ body: (inout Value) -> T) throws(DaemonError) -> T {
        let outcome = value.withLock { (value: inout Value) -> Result<T, DaemonError> in
            var next = value
            let result = body(&next)
            guard next != value else { return .success(result) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(next) else { return .failure(.failure("\(path): cannot encode")) }
            if let failed = FileIO.replace(path, with: Array(data), temporary: path + ".tmp") {
                return .failure(.failure("\(path): \(failed.step): \(String(cString: strerror(failed.errno)))"))
            }
            value = next
            return .success(result)
        }
        return try outcome.get()
    }
}
