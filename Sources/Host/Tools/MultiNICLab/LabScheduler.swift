import MultiNICCore

/// The lab's stand-in for the scheduler's DRA allocator, for claims without CEL: each request takes `count` devices
/// of its driver from one node's slices, no device twice (nor one another claim holds), and every `matchAttribute`
/// constraint holds (all devices of the constraint's requests have the same value of that attribute). Requests are
/// filled in order; the first fitting choice wins (a backtracking search, small: a node has at most a few dozen
/// devices).
public enum LabScheduler {
    /// One request of a claim: `count` devices of `driver`.
    public struct Request: Sendable, Hashable {
        public var name: String
        public var driver: String
        public var count: Int

        public init(name: String, driver: String, count: Int) {
            self.name = name
            self.driver = driver
            self.count = count
        }
    }

    /// `matchAttribute`: the devices of `requests` (all requests when empty) share `attribute`'s value (fully
    /// qualified, `resource.kubernetes.io/pcieRoot`; an unqualified name is the driver's).
    public struct Constraint: Sendable, Hashable {
        public var requests: [String]
        public var attribute: String

        public init(requests: [String] = [], attribute: String) {
            self.requests = requests
            self.attribute = attribute
        }
    }

    /// One published device.
    public struct Device: Sendable, Hashable {
        public var driver: String
        public var pool: String
        public var name: String
        /// Attribute values as text, by fully qualified name.
        public var attributes: [String: String]

        public init(driver: String, pool: String, name: String, attributes: [String: String]) {
            self.driver = driver
            self.pool = pool
            self.name = name
            self.attributes = attributes
        }

        /// The devices of ResourceSlices (resource.k8s.io/v1 JSON).
        public static func all(in slices: [JSONValue]) -> [Device] {
            slices.flatMap { slice -> [Device] in
                let spec = slice.objectValue?["spec"]?.objectValue ?? [:]
                let driver = spec["driver"]?.stringValue ?? "", pool = spec["pool"]?.objectValue?["name"]?.stringValue ?? ""
                return (spec["devices"]?.arrayValue ?? []).compactMap { device in
                    guard let name = device.objectValue?["name"]?.stringValue else { return nil }
                    var attributes: [String: String] = [:]
                    for (key, value) in device.objectValue?["attributes"]?.objectValue ?? [:] {
                        let qualified = key.contains("/") ? key : driver + "/" + key
                        let object = value.objectValue ?? [:]
                        attributes[qualified] = object["string"]?.stringValue ?? object["version"]?.stringValue
                            ?? object["int"].map(\.description) ?? object["bool"].map(\.description)
                    }
                    return Device(driver: driver, pool: pool, name: name, attributes: attributes)
                }
            }
        }
    }

    /// The devices for each request, in request order, or why none fit.
    public static func allocate(_ requests: [Request], constraints: [Constraint], devices: [Device],
                                taken: Set<String>) -> Result<[(request: String, device: Device)], Unschedulable> {
        let free = devices.filter { !taken.contains(key($0)) }
        var chosen: [(request: String, device: Device)] = []
        var used = Set<String>()
        func fits() -> Bool {
            constraints.allSatisfy { constraint in
                let values = chosen.filter { constraint.requests.isEmpty || constraint.requests.contains($0.request) }
                    .map { $0.device.attributes[constraint.attribute] }
                return values.allSatisfy { $0 != nil && $0 == values.first ?? nil }
            }
        }
        func fill(_ index: Int, _ remaining: Int) -> Bool {
            guard index < requests.count else { return true }
            let request = requests[index]
            if remaining == 0 { return fill(index + 1, index + 1 < requests.count ? requests[index + 1].count : 0) }
            for device in free where device.driver == request.driver && !used.contains(key(device)) {
                // Within a request devices are taken in slice order: one ordering of each set is enough.
                if let last = chosen.last, last.request == request.name, key(device) < key(last.device) { continue }
                chosen.append((request.name, device))
                used.insert(key(device))
                if fits() && fill(index, remaining - 1) { return true }
                chosen.removeLast()
                used.remove(key(device))
            }
            return false
        }
        guard requests.allSatisfy({ $0.count >= 1 }) else { return .failure(Unschedulable("every request needs a count of at least 1")) }
        if fill(0, requests.first?.count ?? 0) { return .success(chosen) }
        let wanted = requests.map { "\($0.count) of \($0.driver)" }.joined(separator: " + ")
        let matching = constraints.map { " sharing \($0.attribute)" }.joined()
        return .failure(Unschedulable("no \(wanted) free\(matching) (\(free.count) free devices)"))
    }

    /// A device's identity across slices.
    public static func key(_ device: Device) -> String { device.driver + "/" + device.pool + "/" + device.name }

    /// Why a claim cannot be allocated.
    public struct Unschedulable: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
