import Foundation
import MultiNICController
import MultiNICCore
import MultiNICKube

/// A local copy of one kind, kept current by one list and one watch (an informer): reads are answered from memory,
/// the store's own writes are folded in as soon as the API accepts them, and every change is fanned out to the
/// store's watchers. After 410 Gone, a watch ERROR or a dropped connection it lists again (with backoff) and reports
/// what changed meanwhile, so level-based reconcilers catch up.
actor Informer<S: ResourceSpec> {
    let client: KubeClient
    let log: @Sendable (String) -> Void
    /// Failed lists and watches so far, and the latest reason.
    private var failures = 0
    private var lastReason: String?
    /// Watches that ended within a second with nothing in them (each one backs off).
    private(set) var shortWatches = 0
    private var objects: [ObjectKey: Resource<S>] = [:]
    /// Deleted objects and the resourceVersion of their deletion, so a late answer to our own write cannot bring
    /// one back (cleared at every list).
    private var tombstones: [ObjectKey: String] = [:]
    private var synced = false
    private var lastFailure: KubeError?
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var subscribers: [UUID: AsyncStream<StoreEvent>.Continuation] = [:]
    private var loop: Task<Void, Never>?

    init(client: KubeClient, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.log = log
    }

    /// Whether the first list arrived, and what went wrong since.
    func health() -> InformerHealth {
        InformerHealth(kind: S.kind, synced: synced, failures: failures, lastFailure: lastReason)
    }

    deinit { loop?.cancel() }

    /// Starts listing and watching (once); readers and watchers start it too.
    func start() {
        if loop == nil { loop = Task { await self.run() } }
    }

    /// Waits for the first complete list (starting the informer on first use); throws when the latest attempt failed.
    func ready() async throws(KubeError) {
        start()
        while !synced {
            if let lastFailure { throw lastFailure }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    func get(_ key: ObjectKey) -> Resource<S>? { objects[key] }

    func list(namespace: String?, labels: [String: String]) -> [Resource<S>] {
        objects.values.filter { object in
            (namespace == nil || object.metadata.namespace == namespace)
                && labels.allSatisfy { object.metadata.labels?[$0.key] == $0.value }
        }.sorted { ObjectKey($0) < ObjectKey($1) }
    }

    /// Our own write as the API answered it; an older version than the cached one changes nothing, and an object
    /// whose last finalizer the write removed is gone.
    func wrote(_ object: Resource<S>) {
        let key = ObjectKey(object)
        if object.metadata.deletionTimestamp != nil && (object.metadata.finalizers ?? []).isEmpty {
            objects[key] = nil
            return
        }
        if let deleted = tombstones[key], !Self.isNewer(object.metadata.resourceVersion, than: deleted) { return }
        if let cached = objects[key], Self.isNewer(cached.metadata.resourceVersion, than: object.metadata.resourceVersion) { return }
        objects[key] = object
    }

    func removed(_ key: ObjectKey) { objects[key] = nil }

    /// Every change from now on; the objects already known arrive first as `modified`. With `stopWhenEnded` the
    /// informer stops listing and watching when this stream ends (an informer made for one watcher).
    func subscribe(stopWhenEnded: Bool = false) -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream()
        let id = UUID()
        subscribers[id] = continuation
        if synced { for key in objects.keys.sorted() { continuation.yield(.modified(key)) } }
        continuation.onTermination = { _ in Task { await self.unsubscribe(id, stop: stopWhenEnded) } }
        start()
        return stream
    }

    private func unsubscribe(_ id: UUID, stop: Bool) {
        subscribers[id] = nil
        if stop { loop?.cancel() }
    }

    private func publish(_ event: StoreEvent) {
        for subscriber in subscribers.values { subscriber.yield(event) }
    }

    /// Resource versions are opaque, but the API server's are integers; when both parse, compare them.
    static func isNewer(_ version: String?, than other: String?) -> Bool {
        guard let version = version.flatMap({ Int($0) }), let other = other.flatMap({ Int($0) }) else { return false }
        return version > other
    }

    private func replaceAll(_ listed: [Resource<S>]) {
        let fresh = Dictionary(listed.map { (ObjectKey($0), $0) }, uniquingKeysWith: { _, last in last })
        let gone = objects.keys.filter { fresh[$0] == nil }
        objects = fresh
        tombstones = [:]
        let wasSynced = synced
        synced = true
        lastFailure = nil
        for key in gone.sorted() { publish(.deleted(key)) }
        for key in fresh.keys.sorted() { publish(wasSynced ? .modified(key) : .added(key)) }
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.resume() }
    }

    private func failed(_ error: KubeError) {
        lastFailure = error
        let woken = waiters
        waiters = []
        for waiter in woken { waiter.resume() }
    }

    private func apply(_ event: KubeWatchEvent<Resource<S>>) -> String? {
        switch event {
        case .added(let object):
            objects[ObjectKey(object)] = object
            publish(.added(ObjectKey(object)))
            return object.metadata.resourceVersion
        case .modified(let object):
            objects[ObjectKey(object)] = object
            publish(.modified(ObjectKey(object)))
            return object.metadata.resourceVersion
        case .deleted(let object):
            objects[ObjectKey(object)] = nil
            tombstones[ObjectKey(object)] = object.metadata.resourceVersion ?? ""
            publish(.deleted(ObjectKey(object)))
            return object.metadata.resourceVersion
        case .bookmark(let version):
            return version
        case .error:
            return nil
        }
    }

    private func run() async {
        var version: String?
        var backoff: Duration = .milliseconds(200)
        while !Task.isCancelled {
            do throws(KubeError) {
                if version == nil {
                    let listed = try await client.list(S.self, namespace: nil)
                    replaceAll(listed.items)
                    version = listed.resourceVersion
                }
                let opened = ContinuousClock.now
                var events = 0
                do {
                    for try await event in client.watch(S.self, namespace: nil, resourceVersion: version ?? "") {
                        events += 1
                        backoff = .milliseconds(200)
                        guard let next = apply(event) else {
                            version = nil
                            break
                        }
                        version = next
                    }
                } catch let error as KubeError {
                    throw error
                } catch {
                    throw .transport(String(describing: error))
                }
                // As client-go does: a watch that ends within a second with nothing in it is a failure (a server or a
                // proxy closing watches at once); back off instead of reopening it in a tight loop.
                if events == 0 && ContinuousClock.now - opened < .seconds(1) {
                    shortWatches += 1
                    if shortWatches == 1 || shortWatches % 100 == 0 {
                        log("watch of \(S.kind) ended at once with no events (\(shortWatches) so far): backing off \(backoff)")
                    }
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(30))
                }
            } catch {
                if error.code == 410 {
                    version = nil
                    continue
                }
                failures += 1
                lastReason = error.description
                log("\(synced ? "watch" : "list") of \(S.kind) failed (retry in \(backoff)): \(error)")
                if !synced { failed(error) }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }
}

/// An informer's state for readiness and metrics.
public struct InformerHealth: Sendable, Hashable {
    public var kind: String
    public var synced: Bool
    public var failures: Int
    public var lastFailure: String?

    public init(kind: String, synced: Bool, failures: Int, lastFailure: String?) {
        self.kind = kind
        self.synced = synced
        self.failures = failures
        self.lastFailure = lastFailure
    }
}

/// The informers of a ``KubernetesStore``, one per kind it was asked to cache.
final class InformerSet: Sendable {
    private let informers: [String: any Sendable]
    private let healthReaders: [@Sendable () async -> InformerHealth]
    private let starters: [@Sendable () async -> Void]

    init(client: KubeClient, kinds: [any ResourceSpec.Type], log: @escaping @Sendable (String) -> Void = { _ in }) {
        var informers: [String: any Sendable] = [:]
        var readers: [@Sendable () async -> InformerHealth] = []
        var starters: [@Sendable () async -> Void] = []
        for kind in kinds {
            let (informer, reader, starter) = Self.make(kind, client: client, log: log)
            informers[kind.kind] = informer
            readers.append(reader)
            starters.append(starter)
        }
        self.informers = informers
        healthReaders = readers
        self.starters = starters
    }

    private static func make<S: ResourceSpec>(_ type: S.Type, client: KubeClient, log: @escaping @Sendable (String) -> Void)
        -> (any Sendable, @Sendable () async -> InformerHealth, @Sendable () async -> Void)
    {
        let informer = Informer<S>(client: client, log: log)
        return (informer, { await informer.health() }, { await informer.start() })
    }

    /// Starts every informer, so each kind is listed (and shows as synced) even before anything reads it.
    func startAll() async {
        for starter in starters { await starter() }
    }

    /// Every informer's health, by kind.
    func health() async -> [InformerHealth] {
        var result: [InformerHealth] = []
        for reader in healthReaders { result.append(await reader()) }
        return result.sorted { $0.kind < $1.kind }
    }

    /// The informer of `S`, if that kind is cached.
    func informer<S: ResourceSpec>(_ type: S.Type) -> Informer<S>? {
        informers[S.kind] as? Informer<S>
    }
}
