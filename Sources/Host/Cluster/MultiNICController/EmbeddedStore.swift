import Foundation
import MultiNICCore

/// An in-process store with the API server's conventions: resourceVersion on every write, conflicts on stale
/// updates, a status subresource, finalizers, owner-reference garbage collection, and watches. With a directory it
/// keeps one JSON file per object (written by rename, so a crash leaves the old or the new file), so a controller
/// restart finds its objects again; it is the store of the local lab and of the reconciler tests.
public actor EmbeddedStore: ResourceStore {
    private struct Entry {
        var object: any Sendable
        var encoded: Data
        var resourceVersion: Int
        var uid: String
        var finalizers: [String]
        var owners: [String]
    }

    private var entries: [ObjectKey: Entry] = [:]
    private var version = 0
    private var watchers: [String: [UUID: AsyncStream<StoreEvent>.Continuation]] = [:]
    private let directory: String?
    /// Writes served, for benchmarks (fewer is better).
    public private(set) var writes = 0

    /// A store in memory, or backed by `directory` (created when missing; existing objects are loaded).
    public init(directory: String? = nil) throws(StoreError) {
        self.directory = directory
        guard let directory else { return }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for kind in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                let folder = directory + "/" + kind
                for file in try FileManager.default.contentsOfDirectory(atPath: folder) where file.hasSuffix(".json") {
                    let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + file))
                    let meta = try JSONDecoder().decode(Envelope.self, from: data).metadata
                    let key = ObjectKey(kind: kind, namespace: meta.namespace, name: meta.name)
                    let resourceVersion = Int(meta.resourceVersion ?? "") ?? 0
                    entries[key] = Entry(object: data, encoded: data, resourceVersion: resourceVersion, uid: meta.uid ?? "",
                                         finalizers: meta.finalizers ?? [], owners: (meta.ownerReferences ?? []).map(\.uid))
                    version = max(version, resourceVersion)
                }
            }
        } catch {
            throw .unavailable("cannot load \(directory): \(error)")
        }
    }

    /// Only the metadata, to index files of any kind.
    private struct Envelope: Decodable { var metadata: ObjectMeta }

    public func get<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) throws(StoreError) -> Resource<S>? {
        let key = ObjectKey(kind: S.kind, namespace: S.isNamespaced ? namespace : nil, name: name)
        return try entries[key].map { entry throws(StoreError) in try decode(entry, as: S.self, key: key) }
    }

    public func list<S: ResourceSpec>(_ type: S.Type, namespace: String?, labels: [String: String]) throws(StoreError) -> [Resource<S>] {
        var result: [Resource<S>] = []
        for (key, entry) in entries where key.kind == S.kind && (namespace == nil || key.namespace == namespace) {
            let object = try decode(entry, as: S.self, key: key)
            if labels.allSatisfy({ object.metadata.labels?[$0.key] == $0.value }) { result.append(object) }
        }
        return result.sorted { ObjectKey($0) < ObjectKey($1) }
    }

    public func create<S: ResourceSpec>(_ object: Resource<S>) throws(StoreError) -> Resource<S> {
        var object = object
        if !S.isNamespaced { object.metadata.namespace = nil }
        let key = ObjectKey(object)
        guard entries[key] == nil else { throw .alreadyExists(key) }
        object.metadata.uid = object.metadata.uid ?? UUID().uuidString.lowercased()
        object.metadata.creationTimestamp = Self.timestamp()
        object.metadata.generation = 1
        object.metadata.deletionTimestamp = nil
        try store(&object, key: key)
        notify(.added(key))
        return object
    }

    public func update<S: ResourceSpec>(_ object: Resource<S>) throws(StoreError) -> Resource<S> {
        var (updated, current) = try prepareWrite(object)
        updated.status = current.status
        updated.metadata.uid = current.metadata.uid
        updated.metadata.creationTimestamp = current.metadata.creationTimestamp
        updated.metadata.deletionTimestamp = current.metadata.deletionTimestamp
        updated.metadata.generation = (current.metadata.generation ?? 1) + (updated.spec == current.spec ? 0 : 1)
        let key = ObjectKey(updated)
        if updated.metadata.deletionTimestamp != nil && (updated.metadata.finalizers ?? []).isEmpty {
            remove(key)
            return updated
        }
        try store(&updated, key: key)
        notify(.modified(key))
        return updated
    }

    public func updateStatus<S: ResourceSpec>(_ object: Resource<S>) throws(StoreError) -> Resource<S> {
        var (_, current) = try prepareWrite(object)
        current.status = object.status
        let key = ObjectKey(current)
        try store(&current, key: key)
        notify(.modified(key))
        return current
    }

    public func delete<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?) throws(StoreError) {
        let key = ObjectKey(kind: S.kind, namespace: S.isNamespaced ? namespace : nil, name: name)
        guard let entry = entries[key] else { return }
        guard !entry.finalizers.isEmpty else {
            remove(key)
            return
        }
        var object = try decode(entry, as: S.self, key: key)
        guard object.metadata.deletionTimestamp == nil else { return }
        object.metadata.deletionTimestamp = Self.timestamp()
        try store(&object, key: key)
        notify(.modified(key))
    }

    public func watch<S: ResourceSpec>(_ type: S.Type) -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream()
        let id = UUID()
        watchers[S.kind, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unwatch(S.kind, id) }
        }
        return stream
    }

    private func unwatch(_ kind: String, _ id: UUID) {
        watchers[kind]?[id] = nil
    }

    // MARK: - Unstructured objects

    public func applyObject(_ object: JSONValue) throws(StoreError) {
        guard var fields = object.objectValue, let kind = fields["kind"]?.stringValue, fields["apiVersion"]?.stringValue != nil,
              var metadata = fields["metadata"]?.objectValue, let name = metadata["name"]?.stringValue else {
            throw .invalid(ObjectKey(kind: "?", name: "?"), "an object needs apiVersion, kind and metadata.name")
        }
        let key = ObjectKey(kind: kind, namespace: metadata["namespace"]?.stringValue, name: name)
        let existing = entries[key]
        if let existing, let current = try? JSONDecoder().decode(JSONValue.self, from: existing.encoded),
           Self.withoutServerFields(current) == Self.withoutServerFields(object) {
            return
        }
        let uid = existing?.uid ?? UUID().uuidString.lowercased()
        version += 1
        writes += 1
        metadata["uid"] = .string(uid)
        metadata["resourceVersion"] = .string(String(version))
        fields["metadata"] = .object(metadata)
        let stored = JSONValue.object(fields)
        let data: Data
        do {
            data = try JSONEncoder().encode(stored)
        } catch {
            throw .invalid(key, "cannot encode: \(error)")
        }
        let owners = (metadata["ownerReferences"]?.arrayValue ?? []).compactMap { $0.objectValue?["uid"]?.stringValue }
        entries[key] = Entry(object: stored, encoded: data, resourceVersion: version, uid: uid, finalizers: [], owners: owners)
        try persist(key, data)
        notify(existing == nil ? .added(key) : .modified(key))
    }

    public func listObjects(apiVersion: String, kind: String, labels: [String: String], name: String?) -> [JSONValue] {
        entries.filter { $0.key.kind == kind && (name == nil || $0.key.name == name) }.sorted { $0.key < $1.key }.compactMap { _, entry in
            guard let object = try? JSONDecoder().decode(JSONValue.self, from: entry.encoded),
                  object.objectValue?["apiVersion"]?.stringValue == apiVersion else { return nil }
            let present = object.objectValue?["metadata"]?.objectValue?["labels"]?.objectValue ?? [:]
            return labels.allSatisfy { present[$0.key]?.stringValue == $0.value } ? object : nil
        }
    }

    public func getObject(_ reference: ResourceReference) -> JSONValue? {
        guard let entry = entries[ObjectKey(kind: reference.kind, namespace: reference.namespace, name: reference.name)],
              let object = try? JSONDecoder().decode(JSONValue.self, from: entry.encoded),
              object.objectValue?["apiVersion"]?.stringValue == reference.apiVersion else { return nil }
        return object
    }

    public func deleteObject(_ reference: ResourceReference) {
        remove(ObjectKey(kind: reference.kind, namespace: reference.namespace, name: reference.name))
    }

    /// The object without what the store sets (uid, resourceVersion), to tell whether an apply changes anything.
    private static func withoutServerFields(_ object: JSONValue) -> JSONValue {
        guard var fields = object.objectValue, var metadata = fields["metadata"]?.objectValue else { return object }
        metadata["uid"] = nil
        metadata["resourceVersion"] = nil
        fields["metadata"] = .object(metadata)
        return .object(fields)
    }

    // MARK: - Internals

    /// The stored object an update applies to, after the resourceVersion check.
    private func prepareWrite<S: ResourceSpec>(_ object: Resource<S>) throws(StoreError) -> (Resource<S>, Resource<S>) {
        var object = object
        if !S.isNamespaced { object.metadata.namespace = nil }
        let key = ObjectKey(object)
        guard let entry = entries[key] else { throw .notFound(key) }
        if let expected = object.metadata.resourceVersion, expected != String(entry.resourceVersion) {
            throw .conflict(key, expected: expected, actual: String(entry.resourceVersion))
        }
        return (object, try decode(entry, as: S.self, key: key))
    }

    private func decode<S: ResourceSpec>(_ entry: Entry, as type: S.Type, key: ObjectKey) throws(StoreError) -> Resource<S> {
        if let object = entry.object as? Resource<S> { return object }
        do {
            return try JSONDecoder().decode(Resource<S>.self, from: entry.encoded)
        } catch {
            throw .invalid(key, "stored object does not decode as \(S.kind): \(error)")
        }
    }

    private func store<S: ResourceSpec>(_ object: inout Resource<S>, key: ObjectKey) throws(StoreError) {
        version += 1
        writes += 1
        object.metadata.resourceVersion = String(version)
        let data: Data
        do {
            data = try JSONEncoder().encode(object)
        } catch {
            throw .invalid(key, "cannot encode: \(error)")
        }
        entries[key] = Entry(object: object, encoded: data, resourceVersion: version, uid: object.metadata.uid ?? "",
                             finalizers: object.metadata.finalizers ?? [], owners: (object.metadata.ownerReferences ?? []).map(\.uid))
        try persist(key, data)
    }

    private func persist(_ key: ObjectKey, _ data: Data) throws(StoreError) {
        guard let path = path(key) else { return }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unavailable("cannot write \(path): \(error)")
        }
    }

    /// Removes the object and, like the API server's garbage collector, everything it owns.
    private func remove(_ key: ObjectKey) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        version += 1
        writes += 1
        if let path = path(key) { try? FileManager.default.removeItem(atPath: path) }
        notify(.deleted(key))
        let dependents = entries.filter { $0.value.owners.contains(entry.uid) }.map(\.key)
        for dependent in dependents { remove(dependent) }
    }

    private func path(_ key: ObjectKey) -> String? {
        directory.map { "\($0)/\(key.kind)/" + PendingReleases.safeName((key.namespace.map { "\($0)_" } ?? "") + key.name) + ".json" }
    }

    private func notify(_ event: StoreEvent) {
        for continuation in (watchers[event.key.kind] ?? [:]).values { continuation.yield(event) }
    }

    static func timestamp() -> String {
        Date().formatted(.iso8601)
    }
}
