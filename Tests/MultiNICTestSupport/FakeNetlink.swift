import MultiNICNetlink
import Synchronization

/// Canned netlink answers, for logic that must not need root. `apply` records the changes it was given.
public struct FakeNetlink: RouteNetlink {
    public var linkList: [LinkInfo] = []
    public var addressList: [AddressInfo] = []
    public var routeList: [RouteInfo] = []
    /// Links a test changes while the code under test runs (a cable pulled); `linkList` when nil.
    public var liveLinks: LiveLinks?

    public init(linkList: [LinkInfo] = [], addressList: [AddressInfo] = [], routeList: [RouteInfo] = [], liveLinks: LiveLinks? = nil) {
        self.linkList = linkList
        self.addressList = addressList
        self.routeList = routeList
        self.liveLinks = liveLinks
    }

    public func links() throws(NetlinkError) -> [LinkInfo] { liveLinks?.links ?? linkList }
    public func addresses() throws(NetlinkError) -> [AddressInfo] { addressList }
    public func routes(table: UInt32?) throws(NetlinkError) -> [RouteInfo] { routeList.filter { table == nil || $0.table == table } }
    public func apply(_ changes: [RouteChange]) throws(NetlinkError) -> [(change: RouteChange, error: NetlinkError)] { [] }
    public func rules() throws(NetlinkError) -> [RuleInfo] { [] }
    public func addRule(_ rule: RuleInfo) throws(NetlinkError) {}
    public func deleteRule(_ rule: RuleInfo) throws(NetlinkError) {}
}

/// A link table shared between a test and a FakeNetlink.
public final class LiveLinks: Sendable {
    private let table: Mutex<[LinkInfo]>

    public init(_ links: [LinkInfo]) { table = Mutex(links) }

    public var links: [LinkInfo] { table.withLock { $0 } }

    /// Changes one link (by name).
    public func change(_ name: String, _ edit: @Sendable (inout LinkInfo) -> Void) {
        table.withLock { links in
            for index in links.indices where links[index].name == name { edit(&links[index]) }
        }
    }
}
