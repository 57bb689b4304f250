import Foundation
import MultiNICController
import MultiNICCore
import MultiNICDaemon
import MultiNICDRA
import MultiNICIPAM
import MultiNICKube
import MultiNICKubeFake
import MultiNICLab
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// DRA mode's ResourceSlices: every NIC of a node a device with its attributes (PCIe root, NUMA, RDMA, …) and
/// capacities (bandwidth, free addresses), one pool per node split at 128 devices, the generation bumped when the
/// devices change, the slices of a departed node deleted by the operator; every slice valid against the
/// resource.k8s.io/v1 schema of Kubernetes 1.34.
@Suite struct ResourceSliceTests {
    static let schemas = KubernetesSchemas.bundled

    /// Daemon services on `hardware` (NICs `eth1…`, one /24 pool of network `net` each; eth2 also in `storage`).
    static func withServices(_ hardware: LabHardware, rdma: [String] = [], draDriver: String? = DRANames.defaultDriver,
                             _ body: (DaemonServices, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-dra-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try hardware.write(sysfsRoot: directory + "/sys", nvidiaRoot: directory + "/nvidia")
        for nic in rdma {
            try FileManager.default.createDirectory(atPath: directory + "/sys/class/net/\(nic)/device/infiniband/mlx5_0",
                                                    withIntermediateDirectories: true)
        }
        let nics = hardware.devices.compactMap { device -> String? in
            if case .nic(let name) = device.kind { return name }
            return nil
        }.sorted()
        let netlink = FakeNetlink(
            linkList: nics.enumerated().map { LinkInfo(index: Int32($0.offset + 2), name: $0.element, isUp: true, hasCarrier: true, mtu: 9000, kind: "") },
            addressList: nics.enumerated().map { AddressInfo(linkIndex: Int32($0.offset + 2), address: IPNetwork("10.0.\($0.offset + 1).11/24")!) })
        var configuration = DaemonConfiguration(nodeName: "worker-1", stateDirectory: directory + "/state", sysfsRoot: directory + "/sys",
                                                rtTablesPath: directory + "/rt_tables", quarantineSeconds: 0)
        configuration.draDriver = draDriver
        let services = try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry())
        var pools = nics.enumerated().map { index, name in
            IPPool(metadata: ObjectMeta(name: "net-192.168.\(index).0-24"), spec: IPPoolSpec(
                podCIDR: "192.168.\(index).0/24", vlanCIDR: "192.168.\(index).0/24", netAttachDef: "net", hostName: "worker-1", interfaceName: name))
        }
        pools.append(IPPool(metadata: ObjectMeta(name: "storage-172.16.0.0-28"), spec: IPPoolSpec(
            podCIDR: "172.16.0.0/28", vlanCIDR: "172.16.0.0/24", netAttachDef: "storage", hostName: "worker-1", interfaceName: "eth2")))
        try await services.setPools(pools)
        try await body(services, directory)
    }

    @Test func theEightGPUServersNICsAreDevicesWithTheirPlaceOnThePCIeTree() async throws {
        try await Self.withServices(LabHardware.eightGPUServer(), rdma: ["eth1"]) { services, _ in
            let devices = try services.draDevices()
            #expect(devices.map(\.name) == (1...8).map { "eth\($0)" })
            let eth1 = try #require(devices.first), eth2 = devices[1], eth5 = devices[4]
            #expect(eth1.attributes[DRADevice.pcieRootAttribute] == .string("pci0000:17"))
            #expect(eth5.attributes[DRADevice.pcieRootAttribute] == .string("pci0000:97") && eth5.attributes["numaNode"] == .int(1))
            #expect(eth1.attributes["pciAddress"] == .string("0000:1b:00.0") && eth1.attributes["ifName"] == .string("eth1"))
            #expect(eth1.attributes["rdma"] == .bool(true) && eth2.attributes["rdma"] == .bool(false))
            #expect(eth1.attributes["masterNet"] == .string("10.0.1.0/24") && eth1.attributes["networks"] == .string("net"))
            #expect(eth2.attributes["networks"] == .string("net,storage"))
            // Multus's handshake: the NIC's PCI address is the device ID it hands the CNI ADD of a NAD whose
            // k8s.v1.cni.cncf.io/resourceName equals the resource name.
            #expect(eth1.attributes[DRANames.multusDeviceIDAttribute] == .string("0000:1b:00.0"))
            #expect(eth1.attributes[DRANames.multusResourceNameAttribute] == .string("multinic.cogadvisor.io/nic"))
            // A /24 pool has 254 addresses to give (network and broadcast excluded); eth2 also 14 of storage's /28.
            #expect(eth1.capacity["ipAddresses"] == "254" && eth2.capacity["ipAddresses"] == "268", "\(eth1.capacity) \(eth2.capacity)")
            // The pool's free addresses go down with each pod.
            _ = try await services.allocate(AddressRequest(network: "net", pod: PodRef(namespace: "default", name: "p", uid: "u"),
                                                           containerID: "c", slots: [.init(master: "eth1", ifName: "net1-0")]))
            #expect(try services.draDevices().first?.capacity["ipAddresses"] == "253")

            let slices = ResourceSlicePlan.slices(driver: DRANames.defaultDriver, node: "worker-1", nodeUID: "uid-1", devices: devices, generation: 3)
            #expect(slices.count == 1)
            let spec = try #require(slices.first?.objectValue?["spec"]?.objectValue)
            #expect(spec["pool"] == .object(["name": .string("worker-1"), "generation": .integer(3), "resourceSliceCount": .integer(1)]))
            #expect(spec["nodeName"] == .string("worker-1") && spec["driver"] == .string("multinic.cogadvisor.io"))
            let schemas = try #require(Self.schemas)
            for slice in slices { #expect(schemas.problems(slice)?.isEmpty == true, "\(schemas.problems(slice) ?? [])") }
        }
    }

    @Test func aPoolOfManyNICsIsSplitAt128DevicesPerSlice() throws {
        let interface = InterfaceInfo(interfaceName: "x", netAddress: "10.0.0.0/24", hostIP: "10.0.0.1", vendor: "15b3", product: "1019",
                                      pciAddress: "0000:01:00.0")
        let names = DRADevice.names(for: (0..<300).map { "vf\($0)" })
        let devices = names.map { DRADevice(interface: interface, facts: .init(freeAddresses: 4), name: $0) }
        let slices = ResourceSlicePlan.slices(driver: DRANames.defaultDriver, node: "n1", nodeUID: nil, devices: devices, generation: 1)
        let counts = slices.map { $0.objectValue?["spec"]?.objectValue?["devices"]?.arrayValue?.count ?? 0 }
        #expect(counts == [128, 128, 44])
        #expect(slices.allSatisfy { $0.objectValue?["spec"]?.objectValue?["pool"]?.objectValue?["resourceSliceCount"] == .integer(3) })
        #expect(Set(slices.compactMap { $0.objectValue?["metadata"]?.objectValue?["name"]?.stringValue }).count == 3)
        let schemas = try #require(Self.schemas)
        #expect(slices.allSatisfy { schemas.problems($0)?.isEmpty == true })
    }

    /// deploy/dra's DeviceClass, the example claim template and the pod that uses it are valid Kubernetes objects,
    /// and select this driver's devices; the Config patch names the default driver.
    @Test func theDeviceClassAndTheExampleClaimTemplateAreValid() throws {
        let schemas = try #require(Self.schemas)
        let documents = try DeployManifestTests.documents("deploy/dra/deviceclass.yaml") + DeployManifestTests.documents("examples/dra/claim-template.yaml")
        let pod = try DeployManifestTests.documents("examples/dra/pod.yaml")
        #expect(documents.count == 2 && pod.count == 1)
        for document in pod { #expect(schemas.problems(document)?.isEmpty == true, "\(schemas.problems(document) ?? [])") }
        let template = documents.last?.objectValue?["metadata"]?.objectValue?["name"]
        #expect(pod.first?.objectValue?["spec"]?.objectValue?["resourceClaims"]?.arrayValue?.first?.objectValue?["resourceClaimTemplateName"] == template)
        let patch = try DeployManifestTests.documents("deploy/dra/config-patch.yaml")
        #expect(patch.first?.objectValue?["spec"]?.objectValue?["daemon"]?.objectValue?["draDriver"] == .string(DRANames.defaultDriver))
        for document in documents {
            #expect(schemas.problems(document)?.isEmpty == true, "\(schemas.problems(document) ?? [])")
        }
        #expect(documents.first?.description.contains("device.driver == \\\"\(DRANames.defaultDriver)\\\"") == true, "\(documents.first?.description ?? "")")
        #expect(documents.last?.description.contains(DRADevice.pcieRootAttribute) == true)
    }

    @Test func deviceNamesAreUniqueDNSLabels() {
        #expect(DRADevice.names(for: ["eth1", "eth1.100", "ETH1-100", "ens1f0np0", "_x_", ""]) == ["eth1", "eth1-100", "eth1-100-2", "ens1f0np0", "x", "nic"])
    }

    /// Through the in-test API server (which checks every write against the schema): written once, not again while
    /// nothing changes, replaced with the next generation when a NIC changes, shrunk when the node has fewer NICs.
    @Test func thePublisherWritesOnlyChangesAndBumpsTheGeneration() async throws {
        let server = try await FakeAPIServer()
        defer { server.stop() }
        let client = KubeClient(config: KubeConfig(server: server.url, token: server.token), qps: 1000, burst: 1000)
        let publisher = ResourceSlicePublisher(client: client, driver: DRANames.defaultDriver, node: "worker-1")
        let interface = InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.11", vendor: "15b3", product: "1019",
                                      pciAddress: "0000:1b:00.0", numaNode: 0, speedMbps: 100_000, mtu: 9000, pcieRoot: "pci0000:17")
        func devices(_ count: Int, free: Int = 254) -> [DRADevice] {
            DRADevice.names(for: (0..<count).map { "vf\($0)" }).map { DRADevice(interface: interface, facts: .init(freeAddresses: free), name: $0) }
        }
        func writes() -> Int { server.log.all.filter { ($0.hasPrefix("POST") || $0.hasPrefix("PUT") || $0.hasPrefix("DELETE")) && $0.contains("resourceslices") }.count }
        func stored() -> [JSONValue] { server.objects("apis/resource.k8s.io/v1/resourceslices") }

        var outcome = try await publisher.publish(devices(130))
        #expect(outcome == .init(generation: 1, written: 2, deleted: 0, unchanged: false))
        #expect(stored().count == 2 && writes() == 2)
        #expect(stored().allSatisfy { $0.objectValue?["metadata"]?.objectValue?["labels"] == .object(["app.kubernetes.io/managed-by": .string("multi-nicd")]) })
        outcome = try await publisher.publish(devices(130))
        #expect(outcome.unchanged && writes() == 2, "nothing changed, nothing written")
        outcome = try await publisher.publish(devices(130, free: 10))
        #expect(outcome == .init(generation: 2, written: 2, deleted: 0, unchanged: false))
        #expect(stored().allSatisfy { $0.objectValue?["spec"]?.objectValue?["pool"]?.objectValue?["generation"] == .integer(2) })
        outcome = try await publisher.publish(devices(3))
        #expect(outcome == .init(generation: 3, written: 1, deleted: 1, unchanged: false))
        #expect(stored().count == 1 && stored().first?.objectValue?["spec"]?.objectValue?["pool"]?.objectValue?["resourceSliceCount"] == .integer(1))
        // The server does check slices against the 1.34 schema: one with a malformed device is refused.
        let malformed = #"{"apiVersion":"resource.k8s.io/v1","kind":"ResourceSlice","metadata":{"name":"bad"},"#
            + #""spec":{"driver":"d.example.com","pool":{"name":"p","generation":1,"resourceSliceCount":1},"devices":[{"attributes":{}}]}}"#
        await #expect(throws: KubeError.self) { _ = try await client.call("POST", "/apis/resource.k8s.io/v1/resourceslices", body: Array(malformed.utf8)) }
        // Another node's slices are not this publisher's.
        let other = ResourceSlicePublisher(client: client, driver: DRANames.defaultDriver, node: "worker-2")
        #expect(try await other.publish(devices(1)).generation == 1)
        #expect(try await publisher.published().count == 1 && stored().count == 2)
    }

    /// A node that is gone loses its slices (its daemon cannot delete them any more); other nodes keep theirs.
    @Test func theOperatorDeletesTheSlicesOfADepartedNode() async throws {
        let store = try EmbeddedStore()
        let interface = InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.11", vendor: "15b3", product: "1019",
                                      pciAddress: "0000:1b:00.0")
        for node in ["gone", "here"] {
            for var slice in ResourceSlicePlan.slices(driver: DRANames.defaultDriver, node: node, nodeUID: nil,
                                                      devices: [DRADevice(interface: interface, facts: .init(), name: "eth1")], generation: 1) {
                guard var fields = slice.objectValue, var metadata = fields["metadata"]?.objectValue else { continue }
                metadata["labels"] = .object(DRANames.sliceLabels.mapValues(JSONValue.string))
                fields["metadata"] = .object(metadata)
                slice = .object(fields)
                try await store.applyObject(slice)
            }
        }
        _ = try await store.create(ClusterNode(metadata: ObjectMeta(name: "here"), spec: NodeSpec()))
        let reconciler = HostInterfaceReconciler(store: store, fleet: SimpleFleet())
        #expect(await reconciler.reconcile("gone") == .done)
        let left = try await store.listObjects(apiVersion: "resource.k8s.io/v1", kind: "ResourceSlice", labels: [:])
        #expect(left.compactMap { $0.objectValue?["spec"]?.objectValue?["nodeName"]?.stringValue } == ["here"])
    }
}
