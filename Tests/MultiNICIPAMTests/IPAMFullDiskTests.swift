import Foundation
import MultiNICCore
@testable import MultiNICIPAM
import MultiNICTestSupport
import Testing

/// A journal on a full disk (a small tmpfs): a change that cannot be written fails, the state goes back to what the
/// disk holds (nothing the caller was refused stays allocated, nothing is handed out twice), and once there is room
/// again the journal takes writes without a restart. Found by `lab chaos`: one failed write used to fail every later
/// one until the daemon restarted, with the refused changes kept in memory.
@Suite(.enabled(if: getuid() == 0, "needs root to mount a tmpfs (CI runs as root)"))
struct IPAMFullDiskTests {
    @Test func aFullDiskFailsTheChangeAndTheJournalRecoversWhenThereIsRoom() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-full-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let mounted = try CapturedRun.run(URL(fileURLWithPath: "/usr/bin/mount"), ["-t", "tmpfs", "-o", "size=64k", "tmpfs", directory])
        try #require(mounted.status == 0, "\(mounted)")
        defer { _ = try? CapturedRun.run(URL(fileURLWithPath: "/usr/bin/umount"), [directory]) }

        let service = try IPAMService(directory: directory, quarantineSeconds: 0, clock: { 100 })
        try await service.setPools([try block("a", "10.1.0.0/24")])
        let one = [AllocationRequest(ifName: "net1-0", pool: "a")]
        let first = try await service.allocate(network: "net", containerID: "c1", pod: PodRef(uid: "u1"), requests: one)
        // Fill the disk to the last byte.
        let filler = directory + "/filler"
        FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: filler))
        for size in [4096, 1] { while (try? handle.write(contentsOf: Data(count: size))) != nil {} }
        try handle.close()

        // The journal's last page still has room: allocate until a write needs a new one.
        var refused: String?
        for index in 2..<200 {
            do {
                _ = try await service.allocate(network: "net", containerID: "c\(index)", pod: PodRef(uid: "u\(index)"), requests: one)
            } catch {
                refused = "c\(index)"
                #expect("\(error)".contains("No space left on device"), "\(error)")
                break
            }
        }
        let container = try #require(refused, "no write failed on a full disk")
        #expect(service.current.keys(containerID: container).isEmpty, "a refused allocation is not kept")
        await #expect(throws: IPAMError.self) { _ = try await service.release(containerID: "c1") }
        #expect(!service.current.keys(containerID: "c1").isEmpty, "a refused release keeps the lease")
        #expect(service.current == (try IPAMService(directory: directory, quarantineSeconds: 0, clock: { 100 }).current),
                "memory equals the disk")

        try FileManager.default.removeItem(atPath: filler)
        let held = Set(service.current.leases.values.map(\.address))
        let second = try await service.allocate(network: "net", containerID: container, pod: PodRef(uid: "again"), requests: one)
        #expect(!held.contains(second[0].address), "no address twice")
        _ = try await service.release(containerID: "c1")
        let reopened = try IPAMService(directory: directory, quarantineSeconds: 0, clock: { 100 })
        #expect(reopened.current == service.current, "durable once there was room again")
        #expect(reopened.current.keys(containerID: "c1").isEmpty && !reopened.current.keys(containerID: container).isEmpty)
        #expect(first[0].address.description == "10.1.0.1")
    }
}
