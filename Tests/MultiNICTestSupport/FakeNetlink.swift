import MultiNICNetlink

/// Canned netlink answers, for logic that must not need root. `apply` records the changes it was given.
public struct FakeNetlink: RouteNetlink {
    public var linkList: [LinkInfo] = []
    public var addressList: [AddressInfo] = []
    public var routeList: [RouteInfo] = []

    public init(linkList: [LinkInfo] = [], addressList: [AddressInfo] = [], routeList: [RouteInfo] = []) {
        self.linkList = linkList
        self.addressList = addressList
        self.routeList = routeList
    }

    public func links() throws(NetlinkError) -> [LinkInfo] { linkList }
    public func addresses() throws(NetlinkError) -> [AddressInfo] { addressList }
    public func routes(table: UInt32?) throws(NetlinkError) -> [RouteInfo] { routeList.filter { table == nil || $0.table == table } }
    public func apply(_ changes: [RouteChange]) throws(NetlinkError) -> [(change: RouteChange, error: NetlinkError)] { [] }
    public func rules() throws(NetlinkError) -> [RuleInfo] { [] }
    public func addRule(_ rule: RuleInfo) throws(NetlinkError) {}
    public func deleteRule(_ rule: RuleInfo) throws(NetlinkError) {}
}
