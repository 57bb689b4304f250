import Foundation
import Hummingbird
import MultiNICCore
import NIOCore

/// Reads and decodes one JSON request body within a listener's limits: too large is 413, too slow is 408, not JSON
/// or the wrong shape is 400 naming the field.
struct BodyDecoder: Sendable {
    let limits: DaemonRouter.Limits
    var deadlines = BodyDeadlines.shared

    func callAsFunction<T: Decodable>(_ type: T.Type, _ request: Request, _ context: BasicRequestContext) async throws -> T {
        let maxBytes = limits.maxBodyBytes
        let read = Task {
            do {
                return try await request.body.collect(upTo: maxBytes)
            } catch is NIOTooManyBytesError {
                throw DaemonError.payloadTooLarge("request body larger than \(maxBytes) bytes")
            }
        }
        let watch = deadlines.watch(seconds: limits.bodyTimeoutSeconds) { read.cancel() }
        let result = await withTaskCancellationHandler { await read.result } onCancel: { read.cancel() }
        // A body that arrived just as its deadline passed is still read.
        if deadlines.finish(watch), case .failure = result {
            throw DaemonError.requestTimeout("request body did not arrive within \(limits.bodyTimeoutSeconds) s")
        }
        let buffer = try result.get()
        do {
            return try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw DaemonError.badRequest("request body: not valid JSON")
            }
            throw DaemonError.badRequest("request body: \(DecodingErrorText.issue(error))")
        } catch {
            throw DaemonError.badRequest("request body is not valid JSON")
        }
    }
}
