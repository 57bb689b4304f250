#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import MultiNICCore

/// What `multi-nic` remembers about one attachment between ADD and DEL: the NICs it set up and their delegate
/// configs, so that DEL can undo them even when the daemon is down (and for networks whose IPAM the daemon does not
/// hold). Written before the first delegate runs.
public struct CachedAttachment: Codable, Sendable, Hashable {
    public var network: String
    public var containerID: String
    public var ifName: String
    public var nics: [AttachedNIC]

    public init(network: String, containerID: String, ifName: String, nics: [AttachedNIC]) {
        self.network = network
        self.containerID = containerID
        self.ifName = ifName
        self.nics = nics
    }
}

/// The CNI binary's node-local state (default /var/lib/multinic/cni): `attachments/` (one file per attachment) and
/// `pending-release/` (releases for the daemon to replay). Every write is durable before it returns.
public struct AttachmentStore: Sendable {
    public let directory: String

    public init(directory: String = PendingReleases.defaultCNIStateDirectory) {
        self.directory = directory
    }

    var attachmentsDirectory: String { directory + "/attachments" }

    func path(network: String, containerID: String, ifName: String) -> String {
        attachmentsDirectory + "/" + PendingReleases.safeName(network) + "_" + PendingReleases.safeName(containerID) + "_"
            + PendingReleases.safeName(ifName) + ".json"
    }

    public func save(_ attachment: CachedAttachment) throws(CNIError) {
        try DurableFile.write(try Self.encode(attachment, "the attachment record"), to: path(network: attachment.network, containerID: attachment.containerID, ifName: attachment.ifName))
    }

    public func load(network: String, containerID: String, ifName: String) -> CachedAttachment? {
        DurableFile.read(path(network: network, containerID: containerID, ifName: ifName)).flatMap {
            try? JSONDecoder().decode(CachedAttachment.self, from: Data($0))
        }
    }

    public func remove(network: String, containerID: String, ifName: String) {
        DurableFile.remove(path(network: network, containerID: containerID, ifName: ifName))
    }

    /// Every recorded attachment of `network`.
    public func attachments(network: String) -> [CachedAttachment] {
        let prefix = PendingReleases.safeName(network) + "_"
        return fileNames(in: attachmentsDirectory).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.compactMap { name in
            DurableFile.read(attachmentsDirectory + "/" + name).flatMap { try? JSONDecoder().decode(CachedAttachment.self, from: Data($0)) }
        }.filter { $0.network == network }
    }

    /// Queues a release for the daemon (it replays the queue when it starts).
    public func queueRelease(_ request: DetachRequest) throws(CNIError) {
        let bytes = try Self.encode(request, "the pending release")
        let name = PendingReleases.fileName(network: request.network, containerID: request.containerID + "_" + (request.ifName ?? ""))
        try DurableFile.write(bytes, to: PendingReleases.directory(inCNIState: directory) + "/" + name)
    }

    /// The queued releases (for status and tests).
    public func pendingReleases() -> [String] {
        fileNames(in: PendingReleases.directory(inCNIState: directory)).filter { $0.hasSuffix(".json") }.sorted()
    }

    private static func encode(_ value: some Encodable, _ what: String) throws(CNIError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw CNIError(CNIError.internalError, "cannot encode \(what)", details: "\(error)")
        }
    }

    private func fileNames(in directory: String) -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
