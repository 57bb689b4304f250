import Foundation
import Logging
import MultiNICCore
import MultiNICDaemonClient
import MultiNICOperator
import MultiNICKube

/// The operator's side of daemon TLS: makes sure the Secrets hold a usable CA and serving pair, keeps the trust bundle
/// in a private file for libcurl, and checks again twice a day (renewals land in the bundle without a restart).
public enum DaemonTrustFile {
    /// Ensures the Secrets now (an error stops the operator: without them no daemon can be reached) and returns the
    /// trust to hand to ``KubeDaemonFleet``.
    public static func start(client: KubeClient, namespace: String, logger: Logger, every period: Duration = .seconds(12 * 3600),
                             in parent: String = "/tmp") async throws -> DaemonTrust {
        let secrets = DaemonTLSSecrets(client: client, namespace: namespace)
        let directory = try PrivateFile.makeDirectory(in: parent, prefix: "multinic-daemon-ca")
        let path = directory + "/ca.crt"
        try replace(path, with: try await secrets.ensure())
        logger.info("daemon TLS: trusting the CA in Secret \(DaemonTLSSecrets.authoritySecret)")
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                do {
                    try replace(path, with: try await secrets.ensure())
                } catch {
                    logger.warning("daemon TLS Secrets not checked: \(error)")
                }
            }
        }
        return DaemonTrust(caFile: path)
    }

    /// Writes `text` beside `path` (private, never through a symlink) and renames it over `path`.
    static func replace(_ path: String, with text: String) throws {
        let next = path + ".next"
        _ = unlink(next)
        try PrivateFile.store(Array(text.utf8), at: next)
        guard rename(next, path) == 0 else { throw PrivateFileError("cannot replace \(path): " + String(cString: strerror(errno))) }
    }
}
