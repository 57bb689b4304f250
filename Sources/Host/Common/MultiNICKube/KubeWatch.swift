import Foundation
import MultiNICCore
import MultiNICHTTP
import Synchronization

/// One event of a watch stream (`{"type": ..., "object": ...}` per line).
public enum KubeWatchEvent<Object: Sendable>: Sendable {
    case added(Object)
    case modified(Object)
    case deleted(Object)
    /// A progress mark: nothing changed up to this resourceVersion.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a Status (410 Gone: the resourceVersion is too old — list again).
    case error(KubeStatus)
}

/// Splits a watch body into events, whatever the chunking.
public struct WatchDecoder<S: ResourceSpec>: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// Events completed by `chunk`.
    public mutating func feed(_ chunk: [UInt8]) throws(KubeError) -> [KubeWatchEvent<Resource<S>>] {
        pending += chunk
        var events: [KubeWatchEvent<Resource<S>>] = []
        while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(pending[..<newline])
            pending.removeSubrange(...newline)
            guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") }) else { continue }
            events.append(try Self.event(line))
        }
        return events
    }

    /// Bytes not yet part of a complete line.
    var remainder: [UInt8] { pending }

    /// The last event when the stream ended without a final newline (nil when nothing is left).
    public mutating func finish() throws(KubeError) -> KubeWatchEvent<Resource<S>>? {
        let line = pending
        pending = []
        guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }) else { return nil }
        return try Self.event(line)
    }

    static func event(_ line: [UInt8]) throws(KubeError) -> KubeWatchEvent<Resource<S>> {
        let raw: RawWatchEvent
        do {
            raw = try JSONDecoder().decode(RawWatchEvent.self, from: Data(line))
        } catch {
            throw .decoding("watch event: \(error)")
        }
        let objectData = Data(raw.object.description.utf8)
        func object() throws(KubeError) -> Resource<S> {
            do {
                return try JSONDecoder().decode(Resource<S>.self, from: objectData)
            } catch {
                throw .decoding("watch \(raw.type) object: \(error)")
            }
        }
        switch raw.type {
        case "ADDED": return .added(try object())
        case "MODIFIED": return .modified(try object())
        case "DELETED": return .deleted(try object())
        case "BOOKMARK":
            return .bookmark(resourceVersion: raw.object.objectValue?["metadata"]?.objectValue?["resourceVersion"]?.stringValue ?? "")
        case "ERROR":
            return .error((try? JSONDecoder().decode(KubeStatus.self, from: objectData)) ?? KubeStatus(message: raw.object.description))
        default:
            throw .decoding("unknown watch event type \(raw.type)")
        }
    }
}

extension KubeClient {
    /// Watches from `resourceVersion` (with bookmarks); the stream ends when the server closes the watch or sends an
    /// ERROR, and throws when it cannot be opened. Callers resume from the last resourceVersion they saw.
    public func watch<S: ResourceSpec>(_ type: S.Type, namespace: String?, resourceVersion: String, labelSelector: String? = nil,
                                       timeoutSeconds: Int = 300) -> AsyncThrowingStream<KubeWatchEvent<Resource<S>>, any Error> {
        var query = ["watch=1", "allowWatchBookmarks=true", "resourceVersion=\(KubePaths.escape(resourceVersion))",
                     "timeoutSeconds=\(timeoutSeconds)"]
        if let labelSelector, !labelSelector.isEmpty { query.append("labelSelector=" + KubePaths.escape(labelSelector)) }
        let prepared = request("GET", KubePaths.collection(S.self, namespace: namespace) + "?" + query.joined(separator: "&"),
                               body: nil, contentType: "", timeout: timeoutSeconds + 30)
        return AsyncThrowingStream { continuation in
            let stop = Locked(false)
            continuation.onTermination = { _ in stop.set(true) }
            OSThread.detach {
                var decoder = WatchDecoder<S>()
                var errorBody: [UInt8] = []
                var decodeFailure: KubeError?
                do throws(TransportError) {
                    let status = try CurlTransport.stream(prepared) { chunk in
                        if stop.value { return false }
                        guard decodeFailure == nil else { return false }
                        do throws(KubeError) {
                            for event in try decoder.feed(chunk) { continuation.yield(event) }
                        } catch {
                            errorBody += chunk
                            decodeFailure = error
                            return false
                        }
                        return true
                    }
                    if !(200..<300).contains(status) {
                        continuation.finish(throwing: KubeError.from(code: status, body: errorBody + decoder.remainder))
                    } else if let decodeFailure, !stop.value {
                        continuation.finish(throwing: decodeFailure)
                    } else if stop.value {
                        continuation.finish()
                    } else {
                        // A server may end the stream without a final newline: the last event still counts.
                        do throws(KubeError) {
                            if let last = try decoder.finish() { continuation.yield(last) }
                            continuation.finish()
                        } catch {
                            continuation.finish(throwing: error)
                        }
                    }
                } catch {
                    continuation.finish(throwing: KubeError.transport(error.description))
                }
            }
        }
    }
}

/// A watch line before its object is typed.
struct RawWatchEvent: Decodable {
    var type: String
    var object: JSONValue
}

/// A value shared between the stream's consumer and the transfer thread.
final class Locked<Value: Sendable>: Sendable {
    private let stored: Mutex<Value>

    init(_ value: Value) { stored = Mutex(value) }
    var value: Value { stored.withLock { $0 } }
    func set(_ value: Value) { stored.withLock { $0 = value } }
}
