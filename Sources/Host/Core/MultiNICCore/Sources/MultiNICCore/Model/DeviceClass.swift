/// A named set of NIC models (vendor + products) for the devClass attach policy.
public typealias DeviceClass = Resource<DeviceClassSpec>

/// `DeviceClass.spec`.
public struct DeviceClassSpec: ResourceSpec {
    public static let kind = "DeviceClass"
    public static let plural = "deviceclasses"

    public var ids: [DeviceID]

    public init(ids: [DeviceID]) { self.ids = ids }

    /// True when a NIC with this vendor and product belongs to the class.
    public func matches(vendor: String, product: String) -> Bool {
        ids.contains { $0.vendor.lowercased() == vendor.lowercased()
            && $0.products.contains { $0.lowercased() == product.lowercased() } }
    }
}

/// One vendor and its product IDs (hex, without `0x`).
public struct DeviceID: Codable, Sendable, Hashable {
    public var vendor: String
    public var products: [String]

    public init(vendor: String, products: [String]) {
        self.vendor = vendor
        self.products = products
    }
}
