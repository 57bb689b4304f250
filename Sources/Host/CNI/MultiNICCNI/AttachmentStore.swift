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

    /// The record's file, `nil` unless network, container and interface are each a ``SafeName`` (so the file is always
    /// directly inside `attachments/`).
    func path(network: String, containerID: String, ifName: String) -> String? {
        guard SafeName.isValid(network), SafeName.isValid(containerID), SafeName.isValid(ifName) else { return nil }
        return attachmentsDirectory + "/" + network + "_" + containerID + "_" + ifName + ".json"
    }

    /// A record read back is used only when its names are safe and match the file it came from.
    static func decode(_ bytes: [UInt8]) -> CachedAttachment? {
        guard let record = try? JSONDecoder().decode(CachedAttachment.self, from: Data(bytes)),
              SafeName.isValid(record.network), SafeName.isValid(record.containerID), SafeName.isValid(record.ifName),
              record.nics.allSatisfy({ SafeName.isValid($0.ifName) }) else { return nil }
        return record
    }

    public func save(_ attachment: CachedAttachment) throws(CNIError) {
        guard let path = path(network: attachment.network, containerID: attachment.containerID, ifName: attachment.ifName) else {
            throw CNIError(CNIError.invalidConfig, "network, container ID or interface name is not a safe name",
                           details: "\(LogText.escaped(attachment.network, limit: 80)) / \(LogText.escaped(attachment.containerID, limit: 80))")
        }
        try DurableFile.write(try Self.encode(attachment, "the attachment record"), to: path)
    }

    public func load(network: String, containerID: String, ifName: String) -> CachedAttachment? {
        path(network: network, containerID: containerID, ifName: ifName).flatMap(FileIO.readFile).flatMap(Self.decode)
    }

    public func remove(network: String, containerID: String, ifName: String) {
        if let path = path(network: network, containerID: containerID, ifName: ifName) { DurableFile.remove(path) }
    }

    /// Every recorded attachment of `network`.
    public func attachments(network: String) -> [CachedAttachment] {
        guard SafeName.isValid(network) else { return [] }
        let prefix = network + "_"
        return fileNames(in: attachmentsDirectory).filter { $0.hasPrefix(prefix) && $0.hasSuffix(".json") }.compactMap { name in
            FileIO.readFile(attachmentsDirectory + "/" + name).flatMap(Self.decode)
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
