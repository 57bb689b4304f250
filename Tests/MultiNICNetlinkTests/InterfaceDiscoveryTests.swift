import Foundation
import MultiNICCore
import MultiNICDiscovery
import MultiNICNetlink
import MultiNICTestSupport
import Testing

@Suite struct InterfaceDiscoveryTests {
    /// A fake /sys with two Mellanox NICs, an Intel NIC carrying the default route and a non-network device.
    static func fakeSysfs() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-sysfs-\(UUID())").path
        func write(_ path: String, _ text: String) throws {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        let devices: [(String, String, String, String, String, String?, String?)] = [
            ("0000:3b:00.0", "0x020000", "0x15b3", "0x1019", "0", "4", "ens1f0"),
            ("0000:5e:00.0", "0x020000", "0x15b3", "0x101d", "-1", nil, "ens2f0"),
            ("0000:18:00.0", "0x020000", "0x8086", "0x1592", "1", nil, "eno1"),
            ("0000:19:00.0", "0x020000", "0x8086", "0x1592", "1", nil, "ens3"),
            ("0000:00:1f.0", "0x060100", "0x8086", "0xa1c8", "0", nil, nil),
        ]
        for (address, pciClass, vendor, device, numa, vfs, name) in devices {
            let base = "/bus/pci/devices/\(address)"
            try write(base + "/class", pciClass + "\n")
            try write(base + "/vendor", vendor + "\n")
            try write(base + "/device", device + "\n")
            try write(base + "/numa_node", numa + "\n")
            if let vfs { try write(base + "/sriov_numvfs", vfs + "\n") }
            if let name { try FileManager.default.createDirectory(atPath: root + base + "/net/" + name, withIntermediateDirectories: true) }
        }
        try write("/class/net/ens1f0/speed", "100000\n")
        try write("/class/net/ens2f0/speed", "-1\n")
        return root
    }

    static func link(_ index: Int32, _ name: String, up: Bool = true, kind: String = "") -> LinkInfo {
        LinkInfo(index: index, name: name, isUp: up, hasCarrier: up, mtu: 9000, kind: kind, parentIndex: nil, masterIndex: nil)
    }

    static func address(_ index: Int32, _ text: String) throws -> AddressInfo {
        AddressInfo(linkIndex: index, address: try #require(IPNetwork(text)))
    }

    static func netlink() throws -> FakeNetlink {
        FakeNetlink(
            linkList: [link(1, "lo", kind: ""), link(2, "eno1"), link(3, "ens1f0"), link(4, "ens2f0"), link(5, "ens3", up: false),
                       link(6, "veth7", kind: "veth"), link(7, "net1-0", kind: "macvlan")],
            addressList: [try address(2, "192.0.2.10/24"), try address(3, "10.0.1.11/24"), try address(3, "fd00:1::11/64"),
                          try address(3, "fe80::1/64"), try address(4, "10.0.2.11/24"), try address(5, "10.0.3.11/24"),
                          try address(6, "10.0.9.1/24"), try address(7, "10.0.1.99/24")],
            routeList: [RouteInfo(table: 254, destination: try #require(IPNetwork("0.0.0.0/0")), gateway: IPAddress("192.0.2.1"),
                                  outputIndex: 2, routingProtocol: 3)])
    }

    @Test func findsPhysicalNICsWithTheirFacts() throws {
        let root = try Self.fakeSysfs()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = try InterfaceDiscovery(netlink: Self.netlink(), options: DiscoveryOptions(sysfsRoot: root)).discover()
        #expect(found.map(\.interfaceName) == ["ens1f0", "ens2f0"], "eno1 carries the default route, ens3 is down")
        #expect(found[0] == InterfaceInfo(interfaceName: "ens1f0", netAddress: "10.0.1.0/24", hostIP: "10.0.1.11",
                                         vendor: "15b3", product: "1019", pciAddress: "0000:3b:00.0", numaNode: 0,
                                         speedMbps: 100_000, mtu: 9000, sriovVFs: 4, netAddressV6: "fd00:1::/64",
                                         hostIPv6: "fd00:1::11"))
        #expect(found[1].numaNode == nil && found[1].speedMbps == nil && found[1].sriovVFs == nil)
    }

    @Test func virtualLinksOnlyWhenAllowedAndNeverPodInterfaces() throws {
        let root = try Self.fakeSysfs()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let options = DiscoveryOptions(sysfsRoot: root, virtualKinds: ["veth", "macvlan"])
        let found = try InterfaceDiscovery(netlink: Self.netlink(), options: options).discover(
            unmanaged: [InterfaceInfo(interfaceName: "ib0", netAddress: "10.5.0.0/24", hostIP: ""),
                        InterfaceInfo(interfaceName: "ens1f0", netAddress: "10.99.0.0/24")])
        #expect(found.map(\.interfaceName) == ["ens1f0", "ens2f0", "veth7", "ib0"])
        #expect(found[0].netAddress == "10.0.1.0/24", "a discovered NIC wins over an unmanaged entry of the same name")
    }
}

/// Discovery against a real namespace with veth "NICs".
@Suite(.ownThread, .enabled(if: TestNamespace.canCreate, "needs root and iproute2 to create network namespaces (CI runs as root)"))
struct NamespaceDiscoveryTests {
    @Test func vethNICsAreFoundAndTheDefaultRouteNetworkIsSkipped() throws {
        try TestNamespace.with { name, path in
            try TestNamespace.addVethNICs(name, [("nic1", "10.0.1.5/24"), ("nic2", "10.0.2.5/24"), ("nic9", "192.0.2.5/24")])
            try TestNamespace.ip("-n", name, "route", "add", "default", "via", "192.0.2.1", "dev", "nic9")
            let discovery = InterfaceDiscovery(netlink: try NetworkNamespace.netlink(path: path),
                                               options: DiscoveryOptions(virtualKinds: ["veth"]))
            let found = try discovery.discover()
            #expect(found.map(\.interfaceName) == ["nic1", "nic2"])
            #expect(found.map(\.netAddress) == ["10.0.1.0/24", "10.0.2.0/24"])
            #expect(found.map(\.hostIP) == ["10.0.1.5", "10.0.2.5"])
        }
    }
}
