import Foundation
import MultiNICCloud
import MultiNICCore
import MultiNICDaemon
import MultiNICIPAM
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// multi-nicd with a pool of an aws-ipvlan network on a NIC whose MAC is an ENI's in moto: every allocation is an
/// assigned secondary address before it is returned, every release an unassigned one, and a failed assignment
/// leaves no lease.
@Suite(.enabled(if: MotoServer.executable != nil, "\(motoMissing)"))
struct DaemonCloudTests {
    struct Setup {
        let moto: MotoServer
        let front: ThrottlingEC2
        let admin: MotoAdmin
        let eni: String
        let services: DaemonServices
        let directory: String

        func stop() {
            front.stop()
            moto.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// eth1 (10.0.1.10/24, the ENI's MAC) with an aws pool 10.0.1.0/28 (reserved .0–.3 excluded as the renderer
    /// writes them); eth2 with a MAC EC2 does not know.
    static func setup(quarantineSeconds: Double = 0) async throws -> Setup {
        let moto = try MotoServer()
        let admin = moto.admin
        let (eni, mac) = try moto.makeInterface(cidr: "10.0.1.0/24", primary: "10.0.1.10")
        let front = try await ThrottlingEC2(moto: moto.endpoint)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-cloud-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 9001, kind: "veth", macAddress: mac),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 9001, kind: "veth", macAddress: "02:00:00:00:00:99")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.10/24")!),
                          AddressInfo(linkIndex: 3, address: IPNetwork("10.0.2.10/24")!)])
        var configuration = DaemonConfiguration(nodeName: "ip-10-0-1-10", stateDirectory: directory, sysfsRoot: directory + "/nosys",
                                                rtTablesPath: directory + "/rt_tables", virtualKinds: ["veth"],
                                                quarantineSeconds: quarantineSeconds)
        configuration.aws = AWSSettings(ec2Endpoint: front.url, region: "us-east-1")
        configuration.aws.attempts = 2
        configuration.aws.firstPause = .milliseconds(10)
        let ec2 = EC2Addresses(client: EC2Client(settings: configuration.aws, identity: AWSIdentity(
            settings: configuration.aws, environment: EC2Tests.environment), pause: { _ in }))
        let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry(),
                                          cloudProviders: ["aws": ec2])
        let pools = [
            IPPool(metadata: ObjectMeta(name: "aws-10.0.1.0-28"), spec: IPPoolSpec(
                podCIDR: "10.0.1.0/28", vlanCIDR: "10.0.1.0/24", netAttachDef: "aws", hostName: "ip-10-0-1-10", interfaceName: "eth1",
                excludes: ["10.0.1.0/32", "10.0.1.1/32", "10.0.1.2/32", "10.0.1.3/32", "10.0.1.10/32"], cloudProvider: "aws")),
            IPPool(metadata: ObjectMeta(name: "aws-10.0.2.0-28"), spec: IPPoolSpec(
                podCIDR: "10.0.2.0/28", vlanCIDR: "10.0.2.0/24", netAttachDef: "aws", hostName: "ip-10-0-1-10", interfaceName: "eth2",
                excludes: ["10.0.2.0/30", "10.0.2.10/32"], cloudProvider: "aws")),
        ]
        try await services.setPools(pools)
        return Setup(moto: moto, front: front, admin: admin, eni: eni, services: services, directory: directory)
    }

    static func request(_ pod: String, masters: [String] = ["eth1"]) -> AddressRequest {
        AddressRequest(network: "aws", pod: PodRef(namespace: "default", name: pod, uid: "uid-\(pod)"), containerID: "c-\(pod)",
                       slots: masters.enumerated().map { .init(master: $1, ifName: "net1-\($0)") })
    }

    @Test func anAllocationIsAssignedToTheENIAndItsReleaseUnassignsIt() async throws {
        let setup = try await Self.setup()
        defer { setup.stop() }
        let leases = try await setup.services.allocate(Self.request("a"))
        #expect(leases.map(\.address.description) == ["10.0.1.4"], "the first address AWS does not reserve")
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10", "10.0.1.4"])
        let second = try await setup.services.allocate(Self.request("b"))
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10", "10.0.1.4", "10.0.1.5"])
        _ = try await setup.services.release(network: "aws", containerID: "c-a")
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10", "10.0.1.5"])
        // The leak sweep's release (a pod gone without a DEL) unassigns too.
        let snapshot = setup.services.podLeases()
        _ = try await setup.services.releasePods(["uid-b"], snapshotTakenAt: snapshot.takenAt)
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10"])
        #expect(setup.services.ipam.current.leases.isEmpty && second.count == 1)
    }

    /// A NIC whose MAC no ENI has, or EC2 throttling past every retry: the ADD fails (500, or 503 to retry) and
    /// every address of the request is released again, the assigned ones unassigned.
    @Test func aFailedAssignmentRollsTheAllocationBack() async throws {
        let setup = try await Self.setup()
        defer { setup.stop() }
        await #expect { try await setup.services.allocate(Self.request("a", masters: ["eth1", "eth2"])) } throws: { error in
            guard let error = error as? DaemonError, case .failure(let message) = error else { return false }
            return message.contains("no EC2 network interface has MAC address 02:00:00:00:00:99")
        }
        #expect(setup.services.ipam.current.leases.isEmpty)
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10"], "eth1's address was assigned, then unassigned again")
        #expect(await setup.services.retryCloudUnassigns() == 0, "nothing waits: no ENI has eth2's MAC")

        setup.front.setThrottle(-1)
        await #expect { try await setup.services.allocate(Self.request("b")) } throws: { error in
            guard let error = error as? DaemonError, case .unavailable(let message) = error else { return false }
            return message.contains("RequestLimitExceeded") && message.hasSuffix("retry")
        }
        #expect(setup.services.ipam.current.leases.isEmpty)
        setup.front.setThrottle(0)
        let leases = try await setup.services.allocate(Self.request("b"))
        #expect(try setup.admin.addresses(eni: setup.eni) == Set(["10.0.1.10"] + leases.map(\.address.description)))
    }

    /// EC2 down at a release: the release succeeds (DEL always does), the unassignment waits in
    /// `cloud-unassign.json` and is made by the next retry; an address leased again meanwhile is left alone.
    @Test func anUnassignmentThatFailsIsRetriedLater() async throws {
        let setup = try await Self.setup()
        defer { setup.stop() }
        _ = try await setup.services.allocate(Self.request("a"))
        _ = try await setup.services.allocate(Self.request("b"))
        setup.front.setThrottle(-1)
        let released = try await setup.services.release(network: "aws", containerID: "c-a")
        #expect(released.map(\.address.description) == ["10.0.1.4"])
        #expect(FileManager.default.fileExists(atPath: setup.directory + "/cloud-unassign.json"))
        #expect(await setup.services.retryCloudUnassigns() == 1, "still throttled")
        #expect(try setup.admin.addresses(eni: setup.eni).contains("10.0.1.4"))
        setup.front.setThrottle(0)
        #expect(await setup.services.retryCloudUnassigns() == 0)
        #expect(try setup.admin.addresses(eni: setup.eni) == ["10.0.1.10", "10.0.1.5"])

        // Released while EC2 is down, then handed out again (no quarantine here) before the retry: kept.
        setup.front.setThrottle(-1)
        _ = try await setup.services.release(network: "aws", containerID: "c-b")
        setup.front.setThrottle(0)
        var pods = 0
        while !setup.services.ipam.current.leases.values.contains(where: { $0.address.description == "10.0.1.5" }) {
            pods += 1
            try #require(pods <= 11, "the pool's 11 addresses went round without 10.0.1.5")
            _ = try await setup.services.allocate(Self.request("c\(pods)"))
        }
        #expect(await setup.services.retryCloudUnassigns() == 0)
        let held = Set(setup.services.ipam.current.leases.values.map(\.address.description))
        #expect(held.contains("10.0.1.5") && held.count == pods)
        #expect(try setup.admin.addresses(eni: setup.eni) == held.union(["10.0.1.10"]), "the retry took no live address")
    }
}
