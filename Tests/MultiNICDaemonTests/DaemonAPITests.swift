import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
import MultiNICDaemon
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// The daemon's HTTP API through its router, with fake netlink and a real IPAM journal in a temporary directory.
@Suite struct DaemonAPITests {
    init() {}

    static let node = "worker-1"

    /// Services for a host with NICs eth1 (10.0.1.0/24) and eth2 (10.0.2.0/24).
    static func services(directory: String) throws -> DaemonServices {
        let netlink = FakeNetlink(
            linkList: [LinkInfo(index: 2, name: "eth1", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth"),
                       LinkInfo(index: 3, name: "eth2", isUp: true, hasCarrier: true, mtu: 1500, kind: "veth")],
            addressList: [AddressInfo(linkIndex: 2, address: IPNetwork("10.0.1.11/24")!),
                          AddressInfo(linkIndex: 3, address: IPNetwork("10.0.2.11/24")!)])
        let configuration = DaemonConfiguration(nodeName: node, stateDirectory: directory, sysfsRoot: directory + "/nosys",
                                                rtTablesPath: directory + "/rt_tables", virtualKinds: ["veth"],
                                                quarantineSeconds: 0)
        return try DaemonServices(configuration: configuration, netlink: netlink, registry: BuiltPlugins.registry())
    }

    static let pools = """
        [{"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-192.168.0.0-30"},
          "spec":{"podCIDR":"192.168.0.0/30","vlanCIDR":"192.168.0.0/18","netAttachDef":"net","hostName":"worker-1",
                  "interfaceName":"eth1","excludes":[],"allocations":[]}},
         {"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-192.168.64.0-26"},
          "spec":{"podCIDR":"192.168.64.0/26","vlanCIDR":"192.168.64.0/18","netAttachDef":"net","hostName":"worker-1",
                  "interfaceName":"eth2","excludes":[],"allocations":[]}},
         {"apiVersion":"net.cogadvisor.io/v1","kind":"IPPool","metadata":{"name":"net-192.168.1.0-26"},
          "spec":{"podCIDR":"192.168.1.0/26","vlanCIDR":"192.168.0.0/18","netAttachDef":"net","hostName":"worker-2",
                  "interfaceName":"eth1","excludes":[],"allocations":[]}}]
        """

    func withApp(access: DaemonRouter.Access = .localSocket, limits: DaemonRouter.Limits = DaemonRouter.Limits(),
                 _ body: @escaping @Sendable (TestClientProtocol, DaemonServices) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-daemon-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let services = try Self.services(directory: directory)
        let app = Application(router: DaemonRouter.build(services, access: access, limits: limits))
        try await app.test(.router) { client in try await body(client, services) }
    }

    func call(_ client: TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil,
              token: String? = nil) async throws -> (status: Int, body: String) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            ($0.status.code, String(buffer: $0.body))
        }
    }

    static let allocate = #"{"pod":"p1","namespace":"default","host":"worker-1","def":"net","masters":["eth1","eth2"],"containerID":"c1","ifNames":["net1-0","net1-1"],"podUID":"u1"}"#

    @Test func selectAllocateAndDeallocate() async throws {
        try await withApp { client, services in
            #expect(try await call(client, .get, "/readyz") == (200, "ok: no pools yet"), "ready without pools: a node without networks is normal")
            #expect(try await call(client, .put, "/pools", Self.pools).status == 200)
            #expect(services.ipam.current.pools.count == 2, "the other host's pool is ignored")
            #expect(try await call(client, .get, "/readyz").status == 200)
            let select = try await call(client, .post, "/select",
                                        #"{"pod":"p1","namespace":"default","host":"worker-1","def":"net","masterNets":["10.0.1.0/24","10.0.2.0/24"],"args":{"nics":2}}"#)
            #expect(select.status == 200)
            #expect(try JSONDecoder().decode(SelectResponse.self, from: Data(select.body.utf8)).masters == ["eth1", "eth2"])
            let first = try await call(client, .post, "/allocate", Self.allocate)
            #expect(first.status == 200)
            #expect(first.body == #"[{"block":"18","ifName":"net1-0","interface":"eth1","ip":"192.168.0.1"},{"block":"18","ifName":"net1-1","interface":"eth2","ip":"192.168.64.1"}]"#)
            #expect(try await call(client, .post, "/allocate", Self.allocate).body == first.body, "idempotent")
            let released = try await call(client, .post, "/deallocate", Self.allocate)
            #expect(released.status == 200 && released.body.contains("192.168.0.1"))
            #expect(try await call(client, .post, "/deallocate", Self.allocate) == (200, "[]"), "nothing left is success")
        }
    }

    @Test func badRequestsGetClearErrors() async throws {
        try await withApp { client, _ in
            _ = try await call(client, .put, "/pools", Self.pools)
            #expect(try await call(client, .post, "/allocate", "{not json") == (400, #"{"error":"request body: not valid JSON"}"#))
            #expect(try await call(client, .post, "/allocate", #"{"pod":"p","namespace":"n","host":"h"}"#)
                == (400, #"{"error":"request body: def: is required"}"#))
            #expect(try await call(client, .post, "/allocate", #"{"pod":"p","namespace":"n","host":"h","def":"net","masters":[]}"#)
                == (400, #"{"error":"masters: at least one host NIC is required"}"#))
            let unknown = try await call(client, .post, "/allocate", #"{"pod":"p","namespace":"n","host":"h","def":"other","masters":["eth1"]}"#)
            #expect(unknown.status == 404 && unknown.body.contains("no IPPool of network other on NIC eth1"))
            // eth1's /30 holds two addresses: the third pod finds the pool exhausted.
            for index in 0..<2 {
                #expect(try await call(client, .post, "/allocate", Self.allocate.replacingOccurrences(of: "\"c1\"", with: "\"c\(index)\"")).status == 200)
            }
            let full = try await call(client, .post, "/allocate", Self.allocate.replacingOccurrences(of: "\"c1\"", with: "\"c9\""))
            #expect(full.status == 409 && full.body.contains("exhausted"))
            let policy = try await call(client, .post, "/select", #"{"pod":"p","namespace":"n","host":"h","def":"net","attachPolicy":{"strategy":"fastest"}}"#)
            #expect(policy.status == 404 && policy.body.contains("no attach policy \\\"fastest\\\""))
        }
    }

    @Test func tcpMutationsNeedTheToken() async throws {
        try await withApp(access: .bearerToken("s3cret")) { client, services in
            #expect(try await call(client, .put, "/pools", Self.pools).status == 401)
            #expect(try await call(client, .put, "/pools", Self.pools, token: "wrong").status == 401)
            #expect(services.ipam.current.pools.isEmpty, "nothing changed")
            #expect(try await call(client, .put, "/pools", Self.pools, token: "s3cret").status == 200)
            let denied = try await call(client, .post, "/allocate", Self.allocate)
            #expect(denied.status == 401 && denied.body.contains("bearer token"))
            #expect(services.ipam.current.leases.isEmpty)
            #expect(try await call(client, .post, "/addl3", #"{"name":"net","subnet":"192.168.0.0/16","routes":[]}"#).status == 401)
            #expect(try await call(client, .get, "/status").status == 401, "reads name pods and addresses: token too")
            #expect(try await call(client, .get, "/interface", token: "s3cret").status == 200)
            #expect(try await call(client, .post, "/allocate", Self.allocate, token: "s3cret").status == 200)
        }
        try await withApp(access: .bearerToken(nil)) { client, _ in
            let refused = try await call(client, .put, "/pools", Self.pools, token: "")
            #expect(refused.status == 401, "no token configured: refused")
        }
    }

    @Test func interfacesStatusAndMetrics() async throws {
        try await withApp { client, _ in
            let interfaces = try await call(client, .get, "/interface")
            let decoded = try JSONDecoder().decode([InterfaceInfo].self, from: Data(interfaces.body.utf8))
            #expect(decoded.map(\.netAddress) == ["10.0.1.0/24", "10.0.2.0/24"])
            _ = try await call(client, .put, "/pools", Self.pools)
            _ = try await call(client, .post, "/allocate", Self.allocate)
            let metrics = try await call(client, .get, "/metrics")
            #expect(metrics.body.contains("multinic_allocations_total 2"))
            #expect(metrics.body.contains("multinic_journal_fsyncs "))
            #expect(metrics.body.contains("multinic_journal_fsync_seconds "))
            #expect(metrics.body.contains(#"multinic_pool_addresses_in_use{interface="eth1",network="net",pool="net-192.168.0.0-30"} 1"#))
            #expect(metrics.body.contains(#"multinic_request_duration_seconds_count{path="/allocate"} 1"#))
            let status = try JSONDecoder().decode(DaemonStatus.self, from: Data(try await call(client, .get, "/status").body.utf8))
            #expect(status.node == "worker-1")
            #expect(status.pools.map(\.inUse) == [1, 1])
            #expect(status.pools.map(\.capacity) == ["2", "62"])
            #expect(status.degraded.isEmpty)
            let l3 = try await call(client, .post, "/addl3", #"{"name":"net","subnet":"192.168.0.0/16","routes":[{"net":"192.168.1.0/26","via":"10.0.1.12","iface":"eth9"}]}"#)
            #expect(l3.status == 200 && l3.body.contains(#""success":false"#) && l3.body.contains("no interface eth9"))
        }
    }
}
