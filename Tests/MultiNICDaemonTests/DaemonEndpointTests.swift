import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICKubelet
import MultiNICTestSupport
import Testing

/// Every mutating endpoint: bad JSON is a 400 with a JSON error, and over TCP without the token a 401.
@Suite struct DaemonEndpointTests {
    static let mutating: [(HTTPRequest.Method, String)] = [
        (.post, "/select"), (.post, "/allocate"), (.post, "/deallocate"), (.post, "/gc"), (.post, "/addl3"),
        (.post, "/deletel3"), (.post, "/addroute"), (.post, "/deleteroute"), (.put, "/pools"), (.put, "/deviceclasses"),
        (.post, "/attach"), (.post, "/detach"),
    ]

    @Test func badJSONIsA400OnEveryEndpoint() async throws {
        try await DaemonAPITests().withApp { client, _ in
            for (method, path) in Self.mutating {
                let response = try await DaemonAPITests().call(client, method, path, "{\"broken\": ")
                #expect(response.status == 400, "\(path)")
                #expect(response.body == #"{"error":"request body: not valid JSON"}"#, "\(path)")
                let wrongShape = try await DaemonAPITests().call(client, method, path, "42")
                #expect(wrongShape.status == 400 && wrongShape.body.hasPrefix(#"{"error":"request body:"#), "\(path)")
            }
        }
    }

    @Test func everyMutatingEndpointNeedsTheTokenOverTCP() async throws {
        try await DaemonAPITests().withApp(access: .bearerToken("s3cret")) { client, _ in
            for (method, path) in Self.mutating {
                let response = try await DaemonAPITests().call(client, method, path, "{}")
                #expect(response.status == 401, "\(path)")
                #expect(response.body.contains("bearer token"), "\(path)")
            }
        }
    }

    @Test func garbageCollectionReleasesWhatIsNotValid() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            _ = try await DaemonAPITests().call(client, .post, "/allocate", DaemonAPITests.allocate)
            let gc = try await DaemonAPITests().call(client, .post, "/gc",
                                                     #"{"network":"net","validAttachments":[{"containerID":"c1","ifname":"net1-1"}]}"#)
            #expect(gc.status == 200 && gc.body.contains("192.168.0.1") && !gc.body.contains("192.168.64.1"))
            #expect(services.ipam.current.leases.keys.map(\.ifName) == ["net1-1"])
        }
    }

    @Test func theMirrorFollowsAllocations() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            _ = try await DaemonAPITests().call(client, .post, "/allocate", DaemonAPITests.allocate)
            let file = services.configuration.stateDirectory + "/ippools/net-192.168.0.0-30.json"
            var allocations: [Allocation] = []
            for _ in 0..<50 where allocations.isEmpty {
                try await Task.sleep(for: .milliseconds(50))
                if let data = FileManager.default.contents(atPath: file) {
                    allocations = (try? JSONDecoder().decode([Allocation].self, from: data)) ?? []
                }
            }
            #expect(allocations.map(\.address) == ["192.168.0.1"])
            #expect(allocations.first?.containerID == "c1" && allocations.first?.podUID == "u1")
        }
    }

    @Test func unmanagedInterfacesAreAppendedToDiscovery() async throws {
        try await DaemonAPITests().withApp { client, services in
            let file = services.configuration.stateDirectory + "/unmanaged.json"
            try #"[{"interfaceName":"ib0","netAddress":"10.5.0.0/24"}]"#.write(toFile: file, atomically: true, encoding: .utf8)
            var configured = services.configuration
            configured.unmanagedFile = file
            let withUnmanaged = try DaemonServices(configuration: configured, netlink: FakeNetlink(), registry: BuiltPlugins.registry())
            #expect(try withUnmanaged.interfaces().map(\.interfaceName) == ["ib0"])
            _ = client
        }
    }

    @Test func kubeletCheckpointGivesSRIOVMasters() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-kubelet-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/sys/bus/pci/devices/0000:3b:02.1/physfn/net/ens1f0",
                                                withIntermediateDirectories: true)
        let checkpoint = #"""
            {"Data":{"PodDeviceEntries":[
              {"PodUID":"u1","ContainerName":"c","ResourceName":"openshift.io/sriovnet","DeviceIDs":{"0":["0000:3b:02.1"],"1":["0000:86:02.3"]}},
              {"PodUID":"u1","ContainerName":"c","ResourceName":"nvidia.com/gpu","DeviceIDs":["GPU-1"]},
              {"PodUID":"u2","ContainerName":"c","ResourceName":"openshift.io/sriovnet","DeviceIDs":["0000:3b:02.2"]}],
             "RegisteredDevices":{}},"Checksum":1}
            """#
        try checkpoint.write(toFile: directory + "/checkpoint", atomically: true, encoding: .utf8)
        let reader = KubeletCheckpoint(path: directory + "/checkpoint")
        #expect(reader.deviceIDs(podUID: "u1", resourceNames: ["openshift.io/sriovnet"]) == ["0000:3b:02.1", "0000:86:02.3"])
        #expect(reader.deviceIDs(podUID: "u3", resourceNames: ["openshift.io/sriovnet"]).isEmpty)
        #expect(KubeletCheckpoint.interfaceName(ofDevice: "0000:3b:02.1", sysfsRoot: directory + "/sys") == "ens1f0")
    }
}

@Suite struct LeakSweepTests {
    @Test func theSnapshotNamesEveryPodAndOnlyTheNamedPodsAreReleasedWithinTheWindow() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            _ = try await DaemonAPITests().call(client, .post, "/allocate", DaemonAPITests.allocate)
            let other = DaemonAPITests.allocate.replacingOccurrences(of: "\"c1\"", with: "\"c2\"")
                .replacingOccurrences(of: "\"u1\"", with: "\"u2\"")
            _ = try await DaemonAPITests().call(client, .post, "/allocate", other)
            let (status, body) = try await DaemonAPITests().call(client, .get, DaemonAPI.podLeasesPath, nil)
            #expect(status == 200)
            let snapshot = try JSONDecoder().decode(PodLeaseSnapshot.self, from: Data(body.utf8))
            #expect(snapshot.pods.map(\.uid).sorted() == ["u1", "u2"] && snapshot.pods.allSatisfy { $0.addresses.count == 2 })

            let stale = snapshot.takenAt - DaemonAPI.sweepWindowSeconds - 1
            await #expect(throws: DaemonError.self) { _ = try await services.releasePods(["u1"], snapshotTakenAt: stale) }
            #expect(services.ipam.current.leases.count == 4, "a decision on an old snapshot releases nothing")

            let released = try await services.releasePods(["u1", ""], snapshotTakenAt: snapshot.takenAt)
            #expect(released.count == 2)
            #expect(Set(services.ipam.current.leases.values.map(\.pod.uid)) == ["u2"], "only the named pod's leases went")
        }
    }
}
