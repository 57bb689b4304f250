import Foundation
import MultiNICCore

/// What one replay of the CNI binary's release queue did.
public struct PendingReleaseReport: Sendable, Hashable {
    /// Queued detaches applied (their files removed).
    public var replayed = 0
    /// Addresses those detaches released.
    public var released = 0
    /// Files that could not be read as a detach (removed: retrying cannot help).
    public var unreadable: [String] = []
    /// Files kept for the next replay because the release failed.
    public var failed: [String] = []
}

extension DaemonServices {
    /// Applies every release a DEL queued while the daemon was down (`<cni state>/pending-release/*.json`), removing
    /// each file once its release is durable. Run at start and periodically.
    public func replayPendingReleases() async -> PendingReleaseReport {
        let directory = PendingReleases.directory(inCNIState: configuration.cniStateDirectory)
        var report = PendingReleaseReport()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        for name in names {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let request = try? JSONDecoder().decode(DetachRequest.self, from: data) else {
                report.unreadable.append(path)
                try? FileManager.default.removeItem(atPath: path)
                continue
            }
            do {
                let released = try await release(DaemonWire.detachment(request))
                try? FileManager.default.removeItem(atPath: path)
                report.replayed += 1
                report.released += released.count
            } catch {
                report.failed.append(path)
            }
        }
        return report
    }
}
