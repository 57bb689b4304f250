#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCloud
import MultiNICCore
import MultiNICIPAM
import Synchronization

/// An address whose unassignment failed, kept in `<state>/cloud-unassign.json` until a retry succeeds.
struct PendingUnassign: Codable, Sendable, Hashable {
    var provider: String
    var mac: String
    var address: String
}

/// Keeps cloud APIs in step with the pools whose ``PoolBlock/cloudProvider`` says so: every allocated address is
/// assigned before the pod gets it, every released one unassigned. Calls are made one at a time: a retried
/// unassignment can then never take an address that an allocation assigned meanwhile (it is checked against the
/// leases under the same lock).
final class CloudRegistrar: Sendable {
    let providers: [String: any CloudAddressProvider]
    private let lock = Mutex<Void>(())
    private let pending: DurableRecord<[PendingUnassign]>

    init(providers: [String: any CloudAddressProvider], directory: String) {
        self.providers = providers
        pending = DurableRecord(path: directory + "/cloud-unassign.json", empty: [])
    }

    /// Unassignments waiting for a retry.
    var waiting: [PendingUnassign] { pending.current }

    /// Assigns `addresses` (provider, MAC → addresses); the first failure is thrown.
    func assign(_ groups: [(provider: String, mac: String, addresses: [String])]) throws(DaemonError) {
        try lock.withLock { _ throws(DaemonError) in
            for group in groups {
                guard let provider = providers[group.provider] else {
                    throw .failure("IPPool asks for cloud provider \"\(LogText.escaped(group.provider, limit: 20))\", which multi-nicd does not know")
                }
                do throws(CloudError) {
                    try provider.assign(group.addresses, mac: group.mac)
                } catch {
                    let message = "assigning \(group.addresses.joined(separator: ", ")) to the \(group.provider) interface of \(group.mac): \(error)"
                    throw error.isTransient ? .unavailable(message + "; retry") : .failure(message)
                }
            }
        }
    }

    /// Unassigns released addresses; what fails is kept for ``retry(isLeased:)``. Returns the failures' sentences.
    @discardableResult
    func unassign(_ groups: [(provider: String, mac: String, addresses: [String])]) -> [String] {
        lock.withLock { _ in
            var failed: [PendingUnassign] = []
            var messages: [String] = []
            for group in groups {
                do throws(CloudError) {
                    guard let provider = providers[group.provider] else { throw CloudError.transport("no provider \(group.provider)") }
                    try provider.unassign(group.addresses, mac: group.mac)
                } catch {
                    messages.append("unassigning \(group.addresses.joined(separator: ", ")) from \(group.mac): \(error) (retried later)")
                    failed += group.addresses.map { PendingUnassign(provider: group.provider, mac: group.mac, address: $0) }
                }
            }
            if !failed.isEmpty, let problem = change({ list in list += failed.filter { !list.contains($0) } }) {
                messages.append("the failed unassignments could not be recorded for a retry (\(problem)): "
                    + failed.map { "\($0.address) on \($0.mac)" }.joined(separator: ", ") + " stay assigned")
            }
            return messages
        }
    }

    /// Retries the waiting unassignments; an address leased again meanwhile is dropped from the list (its new
    /// lease assigned it). Returns how many remain.
    @discardableResult
    func retry(isLeased: (String) -> Bool) -> Int {
        lock.withLock { _ in
            let waiting = pending.current
            guard !waiting.isEmpty else { return 0 }
            var remaining: [PendingUnassign] = []
            let groups = Dictionary(grouping: waiting.filter { !isLeased($0.address) }) { "\($0.provider) \($0.mac)" }
            for (_, entries) in groups.sorted(by: { $0.key < $1.key }) {
                guard let first = entries.first, let provider = providers[first.provider] else { remaining += entries; continue }
                do throws(CloudError) {
                    try provider.unassign(entries.map(\.address), mac: first.mac)
                } catch {
                    remaining += entries
                }
            }
            change { $0 = remaining }
            return remaining.count
        }
    }

    /// Writes the list durably; why not, when the write failed (the list is then as it was).
    @discardableResult
    private func change(_ body: (inout [PendingUnassign]) -> Void) -> String? {
        do {
            try pending.change(body)
            return nil
        } catch {
            return error.description
        }
    }
}
