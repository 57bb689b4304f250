import Foundation
import Hummingbird
import HummingbirdTesting
import MultiNICCore
@testable import MultiNICIPAM
import MultiNICDaemon
import MultiNICNetlink
import MultiNICTestSupport
import Testing

/// One seeded fuzz target per attack surface of issue 12 (the NetConf/cni-args surface is `CNIFuzzTests`). A trap
/// anywhere ends the test process, so "it finished" is the property; each target also checks what must hold of its
/// answers. CI runs a bounded number of cases; `MULTINIC_FUZZ_CASES=1000000 swift test --filter SecurityFuzz`
/// (what `bench/run fuzz` does) runs a million per target.
@Suite struct SecurityFuzzTests {
    static var cases: Int { FuzzHarness.cases(ci: 20_000) }
    /// The loops that await the in-process server share Swift concurrency's 2 threads with every other suite, which can
    /// keep a case from running for tens of seconds in the full run: a hang is only called after 5 minutes there.
    static let asyncHangSeconds = 300.0

    /// Text built from fragments an attacker would try: numbers at the edges of Double and Int, units, separators,
    /// control characters, path pieces.
    static func hostileText(_ random: inout SeededRandom) -> String {
        let pieces = ["1e300", "-1", "0", "9223372036854775807", "18446744073709551616", "nan", "inf", "-inf", "1.5", "0x10",
                      "Gbps", "Tbps", "kbps", "M", "b/s", " ", "\n", "\u{0}", "\u{1b}[2J", "../", "/", "..", ".", "\"", "\\", "é",
                      "net", "-", "_", "%", "\u{2028}", String(repeating: "9", count: 400)]
        return (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }

    @Test func bandwidthsNamesAndLogText() {
        _ = FuzzHarness.run(kind: "bandwidths-names-log-text", seed: 0xB4D_B1B5, cases: Self.cases) { random, _ in
            let text = Self.hostileText(&random)
            if let mbps = SelectionSupport.parseBandwidth(text) {
                #expect((1...SelectionSupport.maximumBandwidthMbps).contains(mbps), "\(text.debugDescription) → \(mbps)")
            }
            if SafeName.isValid(text) {
                #expect(!text.contains("/") && text != "." && text != ".." && !text.isEmpty)
            }
            let escaped = LogText.escaped(text)
            #expect(!escaped.contains("\n") && !escaped.contains("\r") && !escaped.unicodeScalars.contains { $0.value < 0x20 })
            _ = RouteTableNames(text: text).freeID()
            if let value = Double(text) { _ = CheckedNumber.integer(value, in: -1000...1000) }
            return nil
        }
    }

    @Test func poolsOfEveryShape() {
        _ = FuzzHarness.run(kind: "pool-shapes", seed: 0x9001, cases: Self.cases) { random, _ in
            let v4 = Bool.random(using: &random)
            let bits = v4 ? 32 : 128
            let prefix = Int.random(in: 0...bits, using: &random)
            let value = UInt128(random.next()) << (v4 ? 0 : 64) | UInt128(random.next())
            let address = IPAddress(family: v4 ? .v4 : .v6, value: v4 ? value & 0xFFFF_FFFF : value)
            let block = IPNetwork(address: address, prefixLength: prefix).normalized
            let pool = PoolBlock(name: Bool.random(using: &random) ? "p" : Self.hostileText(&random), network: "net", interfaceName: "eth1",
                                 podCIDR: block, podPrefix: Int.random(in: -3...(bits + 3), using: &random))
            var state = IPAMState(quarantineSeconds: 0)
            state.setPools([pool])
            let usable = state.pools.isEmpty ? nil : state.usage(pool: pool.name, now: 0)
            #expect(usable == nil || usable!.capacity >= 2, "\(block) /\(pool.podPrefix) served with \(String(describing: usable))")
            if !state.pools.isEmpty {
                _ = try? state.allocate(network: "net", containerID: "c", pod: PodRef(),
                                        requests: [AllocationRequest(ifName: "net1-0", pool: pool.name)], now: 0)
            }
            return nil
        }
    }

    @Test func journalsOfRandomBytesOpen() async throws {
        let directory = try PrivateFile.makeDirectory(prefix: "multinic-journal-fuzz-")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A real journal to mutate: pools (JSON records), allocations and releases (binary records).
        let seedDirectory = directory + "/seed"
        let service = try IPAMService(directory: seedDirectory, quarantineSeconds: 0, compactionThreshold: 1 << 30)
        try await service.setPools([PoolBlock(name: "p", network: "net", interfaceName: "eth1",
                                              podCIDR: try #require(IPNetwork("10.1.0.0/24")), podPrefix: 24)])
        _ = try await service.allocate(network: "net", containerID: "c", pod: PodRef(),
                                       requests: [AllocationRequest(ifName: "net1-0", pool: "p")])
        _ = try await service.release(containerID: "c")
        let original = Array(FileManager.default.contents(atPath: IPAMService.journalPath(in: seedDirectory)) ?? Data())
        let rounds = max(Self.cases / 50, 20)
        _ = try FuzzHarness.run(kind: "journal-bytes", seed: 0x70E, cases: rounds) { random, round in
            var bytes = original
            for _ in 0..<Int.random(in: 1...8, using: &random) where !bytes.isEmpty {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                bytes[position] = UInt8.random(in: 0...255, using: &random)
            }
            if Bool.random(using: &random) { bytes += (0..<Int.random(in: 0...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) } }
            let state = directory + "/r\(round)"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: IPAMService.journalPath(in: state), contents: Data(bytes))
            let opened = try IPAMService(directory: state, quarantineSeconds: 0)
            #expect(opened.current.pools.values.allSatisfy { $0.problem == nil })
            try FileManager.default.removeItem(atPath: state)
            return nil
        }
    }

    @Test func daemonRequestBodies() async throws {
        let cases = max(Self.cases / 10, 200)
        try await DaemonAPITests().withApp(limits: DaemonRouter.Limits(maxBodyBytes: 1 << 16, bodyTimeoutSeconds: 5)) { client, _ in
            let templates: [(HTTPRequest.Method, String, String)] = [
                (.put, "/pools", "[" + DaemonSecurityTests.pool(cidr: "192.168.0.0/24") + "]"),
                (.post, "/releasepods", #"{"snapshotTakenAt":1,"podUIDs":["u"]}"#),
                (.post, "/select", #"{"pod":"p","namespace":"default","host":"worker-1","def":"net","args":{"nics":2,"target":"10Gbps"},"attachPolicy":{"strategy":"costOpt","target":"1Gbps"}}"#),
                (.post, "/allocate", DaemonAPITests.allocate),
                (.post, "/addl3", #"{"name":"net","subnet":"192.168.0.0/16","routes":[{"net":"192.168.1.0/26","via":"10.0.1.12","iface":"eth1"}]}"#),
                (.post, "/gc", #"{"network":"net","validAttachments":[]}"#),
            ]
            let coverage = try await FuzzHarness.run(kind: "daemon-bodies", seed: 0xD43, cases: cases, hangSeconds: Self.asyncHangSeconds) { random, _ in
                let (method, path, template) = templates.randomElement(using: &random)!
                var body = template
                // Swap a value for a hostile one: numbers, names, types.
                let values = ["1e300", "-1e300", "1e-300", "18446744073709551616", "-1", "\"../../x\"", "\"a\\nb\"", "null", "[]", "{}",
                              "\"1e300Gbps\"", "\"192.168.0.1/32\"", "\"fd00::/128\"", "\"0.0.0.0/0\"", "true", "\"\""]
                if let range = body.range(of: #"("[^"]*"|-?[0-9.e]+)(?=[,}\]])"#, options: .regularExpression) {
                    var ranges: [Range<String.Index>] = [range]
                    var search = range.upperBound
                    while let next = body.range(of: #"("[^"]*"|-?[0-9.e]+)(?=[,}\]])"#, options: .regularExpression, range: search..<body.endIndex) {
                        ranges.append(next)
                        search = next.upperBound
                    }
                    body.replaceSubrange(ranges.randomElement(using: &random)!, with: values.randomElement(using: &random)!)
                }
                let response = try await DaemonAPITests().call(client, method, path, body)
                #expect(response.status != 500 || path == "/addl3", "\(path) \(body) → \(response)")
                return response.status < 300 ? nil : "\(path) \(response.status)"
            }
            print(coverage)
            let health = try await DaemonAPITests().call(client, .get, "/healthz").status
            #expect(health == 200)
        }
    }

    /// Request paths and methods: every one answered (404, 405, 400 …), none a 500, the daemon healthy after.
    @Test func daemonRequestPaths() async throws {
        let cases = max(FuzzHarness.cases(ci: 2_000) / 10, 200)
        try await DaemonAPITests().withApp(limits: DaemonRouter.Limits(maxBodyBytes: 1 << 16, bodyTimeoutSeconds: 5)) { client, _ in
            let paths = ["/attach", "/detach", "/leases", "/allocate", "/deallocate", "/select", "/pools", "/status", "/interface",
                         "/addl3", "/deletel3", "/gc", "/releasepods", "/podleases", "/healthz", "/metrics", "/join", "/"]
            let pieces = ["/..", "/%2e%2e", "%00", "?", "?a=1&a=2", "#x", "//", "/\u{1F600}", ";", "%", "%zz", "/" + String(repeating: "a", count: 3000),
                          "?limit=-1", "/../../etc/passwd", "\\", "*"]
            let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch, .head, .options]
            var statuses: [Int: Int] = [:]
            _ = try await FuzzHarness.run(kind: "daemon-paths", seed: 0x9A75, cases: cases, hangSeconds: Self.asyncHangSeconds) { random, _ in
                var path = paths.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 0...3, using: &random) {
                    let piece = pieces.randomElement(using: &random)!
                    path.insert(contentsOf: piece, at: path.index(path.startIndex, offsetBy: Int.random(in: 0...path.count, using: &random)))
                }
                if !path.hasPrefix("/") { path = "/" + path }
                let response = try await DaemonAPITests().call(client, methods.randomElement(using: &random)!, path, "{}")
                statuses[response.status, default: 0] += 1
                #expect(response.status != 500, "\(path) → \(response)")
                return response.status < 300 ? nil : "\(response.status)"
            }
            #expect(statuses.keys.contains(404) && statuses.count > 2, "\(statuses)")
            #expect(try await DaemonAPITests().call(client, .get, "/healthz").status == 200)
        }
    }
}
