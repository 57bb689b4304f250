import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICTestSupport
import Testing

/// `/attach` and `/detach`: one round trip per CNI ADD/DEL.
@Suite struct DaemonAttachTests {
    static let attach = #"{"pod":"p1","namespace":"default","podUID":"u1","containerID":"c1","ifName":"net1","network":"net","cniVersion":"1.0.0","plugin":{"cniVersion":"1.0.0","type":"macvlan","mode":"bridge"},"masterNets":["10.0.1.0/24","10.0.2.0/24"],"args":{"nics":2}}"#

    @Test func attachSelectsAllocatesAndBuildsDelegatesThenDetachUndoesIt() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            let attached = try await DaemonAPITests().call(client, .post, "/attach", Self.attach)
            #expect(attached.status == 200)
            let response = try JSONDecoder().decode(AttachResponse.self, from: Data(attached.body.utf8))
            #expect(response.nics.map(\.ifName) == ["net1-0", "net1-1"])
            #expect(response.nics.map(\.master) == ["eth1", "eth2"])
            #expect(response.nics.map(\.address) == ["192.168.0.1/18", "192.168.64.1/18"])
            let delegate = try #require(response.nics.first?.delegate?.objectValue)
            #expect(delegate["type"] == .string("macvlan"))
            #expect(delegate["master"] == .string("eth1"))
            #expect(delegate["mode"] == .string("bridge"))
            #expect(delegate["ipam"]?.description == #"{"addresses":[{"address":"192.168.0.1/18"}],"type":"static"}"#)

            let detach = #"{"containerID":"c1","network":"net","cniVersion":"1.0.0","plugin":{"cniVersion":"1.0.0","type":"macvlan","mode":"bridge"}}"#
            let detached = try JSONDecoder().decode(AttachResponse.self, from: Data(try await DaemonAPITests().call(client, .post, "/detach", detach).body.utf8))
            #expect(detached.nics.map(\.ifName) == ["net1-0", "net1-1"])
            #expect(detached.nics.allSatisfy { $0.delegate?.objectValue?["type"] == .string("macvlan") })
            #expect(services.ipam.current.leases.isEmpty)
            #expect(try await DaemonAPITests().call(client, .post, "/detach", detach).body == #"{"nics":[]}"#, "a second DEL finds nothing")
        }
    }

    @Test func anUnusableBackendAllocatesNothing() async throws {
        try await DaemonAPITests().withApp { client, services in
            _ = try await DaemonAPITests().call(client, .put, "/pools", DaemonAPITests.pools)
            let unknown = try await DaemonAPITests().call(client, .post, "/attach", Self.attach.replacingOccurrences(of: "macvlan", with: "bridge"))
            #expect(unknown.status == 404 && unknown.body.contains("no backend \\\"bridge\\\""))
            // sriov without a device ID cannot build its delegate: the addresses are released again.
            let sriov = try await DaemonAPITests().call(client, .post, "/attach", Self.attach.replacingOccurrences(of: "\"macvlan\"", with: "\"sriov\""))
            #expect(sriov.status == 400 && sriov.body.contains("deviceID"))
            #expect(services.ipam.current.leases.isEmpty)
        }
    }
}
