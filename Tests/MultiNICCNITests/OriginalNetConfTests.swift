import Foundation
@testable import MultiNICCNI
import MultiNICCore
import Testing

/// A pod created by the original Multi-NIC CNI is deleted with the NetConf its NAD had then (Multus caches it):
/// after a takeover that config reaches MultiNIC's `multi-nic`, which must read it and release through its daemon.
@Suite struct OriginalNetConfTests {
    /// As the original's controller generates it (its field order, `daemonIP`/`daemonPort`, `dns: {}`).
    static let original = #"{"cniVersion":"0.3.0","name":"multinic-ipvlanl3","type":"multi-nic","ipam":{"hostBlock":8,"interfaceBlock":2,"type":"multi-nic-ipam","vlanMode":"l3"},"dns":{},"plugin":{"cniVersion":"0.3.0","mode":"l3","type":"ipvlan"},"subnet":"192.168.0.0/16","masterNets":["10.244.0.0/16","10.0.0.0/16"],"multiNICIPAM":true,"daemonIP":"","daemonPort":11000}"#

    @Test func theOriginalsConfigIsReadAsItIs() throws {
        let config = try MultiNICNetConf(stdin: Array(Self.original.utf8))
        #expect(config.name == "multinic-ipvlanl3" && config.multiNICIPAM)
        #expect(config.plugin["type"]?.stringValue == "ipvlan" && config.plugin["mode"]?.stringValue == "l3")
        #expect(config.masterNets == ["10.244.0.0/16", "10.0.0.0/16"])
        #expect(config.delegateVersion == "0.3.0")
    }

    @Test func aDELWithTheOriginalsConfigNamesThePodForItsAddresses() throws {
        let config = try MultiNICNetConf(stdin: Array(Self.original.utf8))
        let arguments = try CNIArguments(CNIEnvironment(variables: [
            "CNI_COMMAND": "DEL", "CNI_CONTAINERID": "0a1b2c3d", "CNI_NETNS": "", "CNI_IFNAME": "net1", "CNI_PATH": "/usr/lib/cni",
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=trainer-0"], stdin: []))
        let request = MultiNICHandler.detachRequest(arguments, config)
        #expect(request.network == "multinic-ipvlanl3" && request.namespace == "default" && request.pod == "trainer-0")
    }
}
