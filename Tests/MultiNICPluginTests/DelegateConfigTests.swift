import MultiNICCore
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

/// Node side: the config of one pod interface on one selected NIC.
@Suite struct DelegateConfigTests {
    func attachment(_ plugin: [String: JSONValue], deviceID: String? = nil) throws -> NICAttachment {
        NICAttachment(networkName: "net", cniVersion: "1.0.0", plugin: plugin, master: "eth2", deviceID: deviceID,
                      address: try #require(IPNetwork("192.168.64.5/18")),
                      routes: [IPAMRoute(dst: "10.99.0.0/16", gw: "192.168.64.1")])
    }

    @Test(arguments: ["ipvlan", "macvlan"])
    func linkBackendsUseTheSelectedMasterAndStaticIPAM(type: String) throws {
        let plugin: [String: JSONValue] = ["cniVersion": .string("1.0.0"), "type": .string(type), "mode": .string("l3"),
                                           "mtu": .integer(9000), "master": .string("ignored-default")]
        let config = try BuiltPlugins.registry().backend(type).delegateConfig(for: attachment(plugin))
        #expect(config.description == #"{"cniVersion":"1.0.0","ipam":{"addresses":[{"address":"192.168.64.5/18"}],"#
            + #""routes":[{"dst":"10.99.0.0/16","gw":"192.168.64.1"}],"type":"static"},"master":"eth2","mode":"l3","#
            + #""mtu":9000,"name":"net","type":"\#(type)"}"#)
    }

    @Test func sriovIsAddressedByDeviceID() throws {
        let plugin: [String: JSONValue] = ["cniVersion": .string("1.0.0"), "type": .string("sriov"), "vlan": .integer(100),
                                           "spoofchk": .string("off")]
        let backend = try BuiltPlugins.registry().backend("sriov")
        let config = try backend.delegateConfig(for: attachment(plugin, deviceID: "0000:3b:02.1")).objectValue
        #expect(config?["deviceID"] == .string("0000:3b:02.1"))
        #expect(config?["vlan"] == .integer(100))
        #expect(config?["master"] == nil)
        #expect(throws: PluginError.self) { try backend.delegateConfig(for: attachment(plugin)) }
    }
}
