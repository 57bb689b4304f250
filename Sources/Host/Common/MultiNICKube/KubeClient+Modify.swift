import MultiNICCore

extension KubeClient {
    /// Read-modify-write of one object, read again after a 409 (someone wrote in between) up to `attempts` times.
    /// `change` edits the object just read and says whether there is anything to write. True when written or when
    /// there was nothing to write; false when the object cannot be read, a write fails otherwise, or every attempt met
    /// a conflict.
    public func modify<S: ResourceSpec>(_ type: S.Type, name: String, namespace: String?, attempts: Int = 5,
                                        _ change: @Sendable (inout Resource<S>) -> Bool) async -> Bool {
        for _ in 0..<max(1, attempts) {
            guard var object = try? await get(type, name: name, namespace: namespace) else { return false }
            guard change(&object) else { return true }
            do {
                _ = try await replace(object)
                return true
            } catch .api(409, _) {
                continue
            } catch {
                return false
            }
        }
        return false
    }
}
