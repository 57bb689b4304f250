import Foundation
import MultiNICCore

/// A coordination.k8s.io/v1 Lease.
public typealias Lease = Resource<LeaseSpec>

public struct LeaseSpec: ResourceSpec {
    public static let kind = "Lease"
    public static let plural = "leases"
    public static let apiVersion = "coordination.k8s.io/v1"
    public static let acceptedAPIVersions = ["coordination.k8s.io/v1"]
    public static let isNamespaced = true

    public var holderIdentity: String?
    public var leaseDurationSeconds: Int?
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int?

    public init(holderIdentity: String? = nil, leaseDurationSeconds: Int? = nil, acquireTime: String? = nil,
                renewTime: String? = nil, leaseTransitions: Int? = nil) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// Leader election on a Lease: only one operator replica reconciles. The holder renews the lease; another replica
/// takes it over only once it has not been renewed for `leaseDuration`; every write carries the resourceVersion it
/// read, so two replicas can never both win the same round (the loser gets 409).
public actor LeaderElector {
    let client: KubeClient
    let namespace: String
    let name: String
    public let identity: String
    let leaseDuration: Int
    /// Set once `release` starts: no renewal writes after that, so a renewal cannot win back the lease just given up.
    private var releasing = false

    public init(client: KubeClient, namespace: String, name: String = "multi-nic-cni-operator", identity: String,
                leaseDurationSeconds: Int = 15) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        leaseDuration = leaseDurationSeconds
    }

    static func microTime(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func parse(_ text: String?) -> Date? {
        guard let text else { return nil }
        return (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601))
    }

    /// One round: true when this replica holds the lease afterwards.
    public func tryAcquireOrRenew(now: Date = Date()) async -> Bool {
        guard !releasing else { return false }
        let stamp = Self.microTime(now)
        let current: Lease
        do {
            current = try await client.get(LeaseSpec.self, name: name, namespace: namespace)
        } catch .api(404, _) {
            let lease = Lease(metadata: ObjectMeta(name: name, namespace: namespace),
                              spec: LeaseSpec(holderIdentity: identity, leaseDurationSeconds: leaseDuration, acquireTime: stamp,
                                              renewTime: stamp, leaseTransitions: 0))
            return (try? await client.create(lease)) != nil
        } catch {
            return false
        }
        var next = current
        if current.spec.holderIdentity == identity {
            next.spec.renewTime = stamp
        } else {
            let renewed = Self.parse(current.spec.renewTime) ?? .distantPast
            let duration = TimeInterval(current.spec.leaseDurationSeconds ?? leaseDuration)
            let vacant = current.spec.holderIdentity == nil || current.spec.holderIdentity == ""
            guard vacant || renewed.addingTimeInterval(duration) < now else { return false }
            next.spec = LeaseSpec(holderIdentity: identity, leaseDurationSeconds: leaseDuration, acquireTime: stamp, renewTime: stamp,
                                  leaseTransitions: (current.spec.leaseTransitions ?? 0) + 1)
        }
        guard !releasing else { return false }
        return (try? await client.replace(next)) != nil
    }

    /// Gives the lease up if this replica holds it (on shutdown), so another replica takes over at once instead of
    /// after a whole lease duration. True when released (or not held).
    @discardableResult
    public func release(now: Date = Date()) async -> Bool {
        releasing = true
        // A renewal already past its GET may still land its write after ours is read, so our write can meet a 409:
        // read again and retry (renewals write nothing more once `releasing` is set).
        let (identity, stamp) = (identity, Self.microTime(now))
        return await client.modify(LeaseSpec.self, name: name, namespace: namespace) { lease in
            guard lease.spec.holderIdentity == identity else { return false }
            lease.spec.holderIdentity = nil
            lease.spec.leaseDurationSeconds = 1
            lease.spec.renewTime = stamp
            return true
        }
    }

    /// Campaigns until leading, then calls `lead` and keeps renewing; when a renewal fails for a whole lease
    /// duration, `lead` is cancelled and the campaign starts again. Runs until cancelled.
    public func run(_ lead: @escaping @Sendable () async -> Void) async {
        let retry = Duration.milliseconds(max(200, leaseDuration * 1000 / 3))
        while !Task.isCancelled {
            guard await tryAcquireOrRenew() else {
                try? await Task.sleep(for: retry)
                continue
            }
            let leading = Task { await lead() }
            var lastRenewal = Date()
            while !Task.isCancelled {
                try? await Task.sleep(for: retry)
                if await tryAcquireOrRenew() {
                    lastRenewal = Date()
                } else if Date().timeIntervalSince(lastRenewal) > TimeInterval(leaseDuration) {
                    break
                }
            }
            leading.cancel()
        }
    }
}
