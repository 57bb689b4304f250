import Foundation
import MultiNICCore
import MultiNICTestSupport
import Testing

/// aws-ipvlan through the real path: the NAD config as rendered, the real `multi-nic`, a multi-nicd in a host
/// namespace whose NIC carries the MAC of an ENI in moto (a real EC2 emulator, listening in that namespace). Where
/// the kernel has ipvlan, an ADD leaves the pod's address assigned to the ENI and its DEL takes it away; where it has
/// not (this CI kernel), the ADD fails in the kernel after the daemon assigned the address, and the rollback must
/// leave neither a lease nor an assignment — on the delegate path and on native attach alike.
@Suite(.ownThread, .enabled(if: CNICluster.available && MotoServer.executable != nil,
                            "needs root, iproute2 and moto_server (CI runs as root; .ci/install-deps --tests installs moto)"), .serialized)
struct AWSIPVLANEndToEndTests {
    /// The NAD config as rendered; `nativeAttach: false` (the network's switch) for the delegate path.
    static func config(native: Bool) -> String {
        #"{"cniVersion":"1.0.0","name":"net","type":"multi-nic","ipam":{"type":"multi-nic-ipam"},"#
            + #""plugin":{"cniVersion":"1.0.0","type":"aws-ipvlan","mode":"l2"},"masterNets":["10.0.1.0/24"],"#
            + #""multiNICIPAM":true,"subnet":""\#(native ? "" : #","nativeAttach":false"#)}"#
    }

    /// The pool the operator renders for this host (``IPPoolDerivation`` with aws-ipvlan's reservation).
    static func pools(host: Int) -> String {
        let spec = CIDRSpec(config: CIDRConfig(name: "net", type: "aws-ipvlan", subnet: "", masterNets: ["10.0.1.0/24"], hostBlock: 4,
                                               interfaceBlock: 0),
                            cidr: [CIDREntry(netAddress: "10.0.1.0/24", interfaceIndex: 0, vlanCIDR: "10.0.1.0/24", hosts: [
                                HostCIDR(hostIndex: 0, hostName: "host-0", interfaceName: "eth1", hostIP: "10.0.1.11", podCIDR: "10.0.1.0/28")])])
        let pools = IPPoolDerivation.pools(for: spec, cloud: CloudAddressing(provider: "aws", reservedAtStart: 4, reservedAtEnd: 1))
        return (try? String(decoding: JSONEncoder().encode(pools), as: UTF8.self)) ?? "[]"
    }

    /// Whether this kernel makes ipvlan links (probed in a scratch namespace).
    static var kernelHasIPVLAN: Bool {
        (try? TestNamespace.with { name, _ in
            try TestNamespace.ip("-n", name, "link", "add", "probe0", "type", "veth", "peer", "name", "probe1")
            return (try? TestNamespace.ip("-n", name, "link", "add", "link", "probe0", "name", "ipv0", "type", "ipvlan")) != nil
        }) ?? false
    }

    @Test(arguments: [false, true])
    func theENIHoldsThePodAddressExactlyWhileThePodDoes(native: Bool) throws {
        try CNICluster.with(hosts: 1, nics: 1, daemonArguments: ["--ec2-endpoint", "http://127.0.0.1:5000", "--ec2-region", "us-east-1", "--log-level", "info"],
                            daemonEnvironment: ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret"],
                            pools: Self.pools) { cluster in
            let moto = try MotoServer(namespace: cluster.hosts[0].namespace)
            defer { moto.stop() }
            let (eni, mac) = try moto.makeInterface(cidr: "10.0.1.0/24", primary: "10.0.1.11")
            _ = try TestNamespace.ip("-n", cluster.hosts[0].namespace, "link", "set", "eth1", "address", mac)
            let admin = moto.admin

            let (code, output) = try cluster.run("ADD", host: 0, config: Self.config(native: native))
            if Self.kernelHasIPVLAN {
                #expect(code == 0, "\(output)")
                let address = (try JSONValue.parse(output)).objectValue?["ips"]?.arrayValue?.first?.objectValue?["address"]?.stringValue ?? ""
                #expect(address == "10.0.1.4/24", "the first address AWS does not reserve (\(output))")
                #expect(try admin.addresses(eni: eni) == ["10.0.1.11", "10.0.1.4"])
                let (deleted, deleteOutput) = try cluster.run("DEL", host: 0, config: Self.config(native: native))
                #expect(deleted == 0, "\(deleteOutput)")
            } else {
                #expect(code != 0, "ipvlan is missing from this kernel, so the ADD must fail (\(output))")
                // The delegate path runs Debian's ipvlan (its error passed on), native attach the daemon's netlink.
                #expect(output.contains(native ? "multi-nicd refused" : "ipvlan"), "\(output)")
                let error = try JSONValue.parse(output).objectValue
                #expect(error?["code"]?.intValue != nil && error?["msg"]?.stringValue?.isEmpty == false, "\(output)")
                // The daemon had assigned the address before the kernel refused the link: both undone.
                let log = (try? String(contentsOfFile: cluster.hosts[0].directory + "/stderr.log", encoding: .utf8)) ?? ""
                #expect(log.contains("assigned 10.0.1.4 to the aws interface of \(mac)")
                        && log.contains("unassigned 10.0.1.4 from the aws interface of \(mac)"), "\(log.suffix(600))")
            }
            #expect(try admin.addresses(eni: eni) == ["10.0.1.11"], "nothing left on the ENI")
            #expect(cluster.inUse(host: 0) == 0, "no lease left: \(cluster.status(host: 0))")
            let (again, againOutput) = try cluster.run("DEL", host: 0, config: Self.config(native: native))
            #expect(again == 0, "a DEL with nothing left succeeds (\(againOutput))")
        }
    }
}
