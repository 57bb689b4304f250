import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICTestSupport
import Testing

/// The attacks of issue 12 on the daemon's API, each reproduced; the daemon must answer with an error and keep
/// serving (a trap in the handler would end the test process).
@Suite struct DaemonSecurityTests {
    let api = DaemonAPITests()

    static func pool(name: String = "p", cidr: String, vlan: String? = nil, interface: String = "eth1", annotations: String = "") -> String {
        #"{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"\#(name)"\#(annotations)},"#
            + #""spec":{"podCIDR":"\#(cidr)","vlanCIDR":"\#(vlan ?? cidr)","netAttachDef":"net","hostName":"worker-1","#
            + #""interfaceName":"\#(interface)","excludes":[],"allocations":[]}}"#
    }

    @Test(arguments: [("192.168.0.1/32", "fewer than 2 usable"), ("192.168.0.0/31", "fewer than 2 usable"),
                      ("fd00::1/128", "fewer than 2 usable"), ("fd00::/127", "fewer than 2 usable")])
    func aPoolWithoutTwoAddressesIsRefused(cidr: String, problem: String) async throws {
        try await api.withApp { client, services in
            let response = try await api.call(client, .put, "/pools", "[" + Self.pool(cidr: cidr) + "]")
            #expect(response.status == 400 && response.body.contains(problem), "\(response)")
            #expect(services.ipam.current.pools.isEmpty)
            #expect(try await api.call(client, .get, "/status").status == 200, "still serving")
        }
    }

    @Test(arguments: [("../../etc/x", "eth1"), ("p\nq", "eth1"), ("p", "eth1 ; x")])
    func poolNamesBecomeNoPath(name: String, interface: String) async throws {
        try await api.withApp { client, services in
            let body = "[" + Self.pool(name: name.replacingOccurrences(of: "\n", with: "\\n"), cidr: "192.168.0.0/24",
                                       interface: interface) + "]"
            let response = try await api.call(client, .put, "/pools", body)
            #expect(response.status == 400, "\(response)")
            #expect(services.ipam.current.pools.isEmpty)
        }
    }

    @Test(arguments: [1e300, -1e300, 1e18])
    func aHostileSnapshotTimeIsAConflictNotACrash(time: Double) async throws {
        try await api.withApp { client, _ in
            let response = try await api.call(client, .post, "/releasepods", #"{"snapshotTakenAt":\#(time),"podUIDs":["u1"]}"#)
            #expect(response.status == 409, "\(response)")
        }
    }

    @Test func aHostileBandwidthTargetIsABadRequestNotACrash() async throws {
        try await api.withApp { client, _ in
            _ = try await api.call(client, .put, "/pools", DaemonAPITests.pools)
            for target in ["1e300Gbps", "infGbps", "99999999999999999999Tbps"] {
                let select = try await api.call(client, .post, "/select",
                    #"{"pod":"p","namespace":"default","host":"worker-1","def":"net","masterNets":["10.0.1.0/24","10.0.2.0/24"],"#
                        + #""attachPolicy":{"strategy":"costOpt","target":"\#(target)"},"args":{"target":"\#(target)"}}"#)
                #expect(select.status == 400 || select.status == 404, "\(target): \(select)")
            }
            #expect(try await api.call(client, .get, "/healthz").status == 200)
        }
    }

    @Test func aNetworkServesOnlyItsNamespaces() async throws {
        try await api.withApp { client, services in
            let annotated = #","annotations":{"multinic.net.cogadvisor.io/namespaces":"default,team-a"}"#
            let pools = "[" + Self.pool(name: "a", cidr: "192.168.0.0/26", vlan: "192.168.0.0/18", annotations: annotated) + ","
                + Self.pool(name: "b", cidr: "192.168.64.0/26", vlan: "192.168.64.0/18", interface: "eth2", annotations: annotated) + "]"
            #expect(try await api.call(client, .put, "/pools", pools).status == 200)
            let intruder = DaemonAPITests.allocate.replacingOccurrences(of: #""namespace":"default""#, with: #""namespace":"intruder""#)
            let refused = try await api.call(client, .post, "/allocate", intruder)
            #expect(refused.status == 403 && refused.body.contains("namespace intruder may not use network net"), "\(refused)")
            #expect(services.ipam.current.leases.isEmpty)
            #expect(try await api.call(client, .post, "/allocate", DaemonAPITests.allocate).status == 200)
        }
    }

    @Test func metricsAreLabelledByRouteNotByTheClientsPath() async throws {
        try await api.withApp { client, _ in
            let first = try await api.call(client, .get, "/metrics").body.utf8.count
            for index in 0..<300 { _ = try await api.call(client, .get, "/nothing-\(index)%22x%0Ay") }
            let metrics = try await api.call(client, .get, "/metrics").body
            #expect(metrics.contains(#"multinic_request_errors_total{path="NotFound",status="404"} 300"#), "one series for every unknown path")
            #expect(!metrics.contains("nothing-"), "raw paths became labels")
            #expect(metrics.utf8.count < first + 4000, "grew from \(first) to \(metrics.utf8.count) bytes")
        }
    }

    @Test func anOversizedBodyIs413() async throws {
        try await api.withApp(limits: DaemonRouter.Limits(maxBodyBytes: 1024, bodyTimeoutSeconds: 5)) { client, _ in
            let response = try await api.call(client, .post, "/allocate", String(repeating: " ", count: 4096) + DaemonAPITests.allocate)
            #expect(response.status == 413, "\(response)")
        }
    }

    @Test func readsNeedTheTokenOverTCPButProbesDoNot() async throws {
        try await api.withApp(access: .bearerToken("s3cret-0123456789")) { client, _ in
            for path in ["/status", "/interface", "/podleases"] {
                let anonymous = try await api.call(client, .get, path).status
                let authorized = try await api.call(client, .get, path, token: "s3cret-0123456789").status
                #expect(anonymous == 401 && authorized == 200, "\(path): \(anonymous) \(authorized)")
            }
            let leases = try await api.call(client, .post, "/leases", #"{"network":"net","containerID":"c1"}"#).status
            #expect(leases == 401)
            for path in ["/healthz", "/metrics"] {
                let status = try await api.call(client, .get, path).status
                #expect(status == 200, "\(path)")
            }
        }
    }

    @Test func aTokenFileMustBePrivateAndNonEmpty() throws {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-token-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PrivateFile.store(Array("0123456789abcdef-token\n".utf8), at: directory + "/good")
        #expect(try DaemonToken.read(directory + "/good") == "0123456789abcdef-token")
        try PrivateFile.store(Array("\n".utf8), at: directory + "/empty")
        #expect(throws: DaemonError.self) { try DaemonToken.read(directory + "/empty") }
        try "0123456789abcdef-token".write(toFile: directory + "/open", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory + "/open")
        #expect(throws: DaemonError.self) { try DaemonToken.read(directory + "/open") }
    }
}
