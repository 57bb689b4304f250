import Foundation
import MultiNICCore
import MultiNICKube
import MultiNICManifests
import MultiNICPluginHost
import MultiNICRender
import MultiNICTestSupport
import Testing

/// Hostile inputs the CNI and daemon fuzz suites do not cover: manifest YAML (through load, validation and rendering),
/// the Kubernetes client's watch-stream bytes, and every backend's plugin arguments. Each kind runs a bounded number of
/// cases in CI (`MULTINIC_FUZZ_CASES`, 1 000 000 from `bench/run fuzz`) under ``FuzzHarness``: no crash, no hang, and
/// every rejection is a clean error with a message; the coverage of those messages is printed.
@Suite(.ownThread) struct InputFuzzTests {
    static let seedManifest = """
        apiVersion: net.cogadvisor.io/v1
        kind: MultiNicNetwork
        metadata:
          name: multi-nic-sample
        spec:
          subnet: "192.168.0.0/16"
          ipam: |
            {"type": "multi-nic-ipam", "hostBlock": 6, "interfaceBlock": 2, "vlanMode": "l3", "excludeCIDRs": ["192.168.0.64/26"]}
          multiNICIPAM: true
          plugin:
            cniVersion: "0.3.0"
            type: ipvlan
            args:
              mode: l3
          attachPolicy:
            strategy: costOpt
            target: 10Gbps
          masterNets: ["10.0.1.0/24", "10.0.2.0/24"]
          namespaces:
          - default
        """
    /// YAML's sharp edges: anchors and aliases (also the exponential kind), tags, deep nesting, tabs, huge numbers.
    static let yamlTokens = ["&a [1,2]", "*a", "!!binary aGk=", "!!python/object:os.system", "[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]", "\t",
                             "1e99999", "18446744073709551616", "-0x7f", "~", "null", "'", "\"\\u0000\"", "? ", ": ", "- ", "---\n", "...\n",
                             "{a: &b [*b]}", "<<: *a", "%YAML 1.1\n", "\u{FEFF}", "é", "\u{0}"]
    static let laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        + (1...9).map { "\(Character(UnicodeScalar(97 + $0)!)): &\(Character(UnicodeScalar(97 + $0)!)) " + String(repeating: "[*\(Character(UnicodeScalar(96 + $0)!))],", count: 9).dropLast() + "\n" }.joined()

    static func mutate(_ text: String, tokens: [String], random: inout SeededRandom) -> String {
        var bytes = Array(text.utf8)
        switch Int.random(in: 0..<4, using: &random) {
        case 0:
            for _ in 0..<Int.random(in: 1...6, using: &random) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)
                }
            }
        case 1: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &random)))
        case 2:
            let token = Array(tokens.randomElement(using: &random)!.utf8)
            bytes.insert(contentsOf: token, at: Int.random(in: 0...bytes.count, using: &random))
        default:
            // A line duplicated or swapped (keys twice, blocks out of place).
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if lines.count > 1 {
                let a = Int.random(in: 0..<lines.count, using: &random), b = Int.random(in: 0..<lines.count, using: &random)
                if Bool.random(using: &random) { lines.swapAt(a, b) } else { lines.insert(lines[a], at: b) }
            }
            return lines.joined(separator: "\n")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func manifestYAMLIsLoadedValidatedAndRenderedOrRefused() throws {
        let renderer = NetworkRenderer(registry: try BuiltPlugins.registry())
        let coverage = try FuzzHarness.run(kind: "manifest-yaml", seed: 0x4A11, cases: FuzzHarness.cases(ci: 4_000)) { random, index in
            let text = index % 500 == 499 ? Self.laughs : Self.mutate(Self.seedManifest, tokens: Self.yamlTokens, random: &random)
            let documents: [ManifestDocument]
            do {
                documents = try ManifestLoader.parse(text, file: "fuzz.yaml")
            } catch {
                #expect(!"\(error)".isEmpty)
                return "\(error)"
            }
            for document in documents where document.kind == MultiNicNetworkSpec.kind {
                let network: MultiNicNetwork
                do {
                    network = try document.decode(MultiNicNetwork.self)
                } catch {
                    return "\(error)"
                }
                do {
                    _ = try renderer.render(network, hosts: [], clusterNamespaces: ["default"])
                } catch {
                    #expect(!"\(error)".isEmpty, "a refusal names what is wrong")
                    return "\(error)"
                }
            }
            return nil
        }
        print(coverage)
        #expect(coverage.accepted > 0 && coverage.rejections.count > 10, "\(coverage)")
    }

    static let events = [
        #"{"type":"ADDED","object":{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"a","resourceVersion":"5"},"spec":{"subnet":"192.168.0.0/16","ipam":"{}","plugin":{"cniVersion":"0.3.0","type":"ipvlan"}}}}"#,
        #"{"type":"MODIFIED","object":{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"a","resourceVersion":"6","labels":{"x":"y"}},"spec":{"subnet":"","ipam":"{}","plugin":{"cniVersion":"1.0.0","type":"macvlan","args":{"mode":"bridge"}}},"status":{"computeResults":[]}}}"#,
        #"{"type":"DELETED","object":{"apiVersion":"net.cogadvisor.io/v1","kind":"MultiNicNetwork","metadata":{"name":"a"},"spec":{"subnet":"","ipam":"{}","plugin":{"cniVersion":"0.3.0","type":"ipvlan"}}}}"#,
        #"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"99"}}}"#,
        #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#,
    ]
    static let jsonTokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "null", "1e999", "-0", "\"\\ud800\"", "\n", "\r\n", "\u{0}",
                             #"{"type":"ADDED"}"#, #""object":7"#, String(repeating: "[", count: 600)]

    @Test func watchStreamBytesBecomeEventsOrAClientError() throws {
        let coverage = FuzzHarness.run(kind: "watch-stream", seed: 0xA7C4, cases: FuzzHarness.cases(ci: 10_000)) { random, _ in
            var stream = (0..<Int.random(in: 1...4, using: &random)).map { _ in Self.events.randomElement(using: &random)! }.joined(separator: "\n") + "\n"
            if Int.random(in: 0..<4, using: &random) != 0 { stream = Self.mutate(stream, tokens: Self.jsonTokens, random: &random) }
            var decoder = WatchDecoder<MultiNicNetworkSpec>()
            var bytes = Array(stream.utf8)
            do {
                // Arbitrary chunking: events must not depend on where the network cut the stream.
                while !bytes.isEmpty {
                    let size = Int.random(in: 1...max(1, bytes.count), using: &random)
                    _ = try decoder.feed(Array(bytes.prefix(size)))
                    bytes.removeFirst(size)
                }
                _ = try decoder.finish()
                return nil
            } catch {
                return "\(error)"
            }
        }
        print(coverage)
        #expect(coverage.accepted > 0 && coverage.rejections.count > 3, "\(coverage)")
    }

    static let hostileValues: [JSONValue] = [.string(""), .string("../../etc/passwd"), .string("l3; rm -rf /"), .integer(-1),
                                              .integer(Int64.max), .double(1e308), .double(-0.0), .bool(true), .null,
                                              .array([.string("x")]), .object(["a": .object(["b": .null])]),
                                              .string(String(repeating: "x", count: 5000)), .string("0x7fffffff"), .string("vepa"),
                                              .string("bridge"), .string("l2"), .string("9000"), .integer(65536), .string("é\u{0}")]
    static let argNames = ["mode", "mtu", "vlan", "master", "resourceName", "numVfs", "isRdma", "linkInContainer", "trust", "spoofchk",
                           "deviceIDs", "region", "subnetID", "mac", "promiscMode", "ipam", "type", "unknown-\u{1F600}"]

    @Test func everyBackendTakesAnyArgumentsOrRefusesThem() throws {
        let registry = try BuiltPlugins.registry()
        let backends = try registry.backendNames.map { name throws -> (String, any MainPlugin) in (name, try registry.backend(name)) }
        let host = HostInterface(metadata: ObjectMeta(name: "worker-1"), spec: HostInterfaceSpec(hostName: "worker-1", interfaces: [
            InterfaceInfo(interfaceName: "eth1", netAddress: "10.0.1.0/24", hostIP: "10.0.1.11", vendor: "15b3", product: "1017",
                          pciAddress: "0000:3b:00.0")]))
        let coverage = FuzzHarness.run(kind: "plugin-args", seed: 0xA265, cases: FuzzHarness.cases(ci: 20_000)) { random, _ in
            let (name, backend) = backends.randomElement(using: &random)!
            var args: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let value = Self.hostileValues.randomElement(using: &random)!
                args[Self.argNames.randomElement(using: &random)!] = value.stringValue ?? value.description
            }
            let network = TestNetwork.make(backend: name, args: args, masterNets: ["10.0.1.0/24"])
            do {
                let rendering = try backend.render(NetworkRenderInput(network: network, hosts: [host]))
                _ = try backend.delegateConfig(for: NICAttachment(networkName: "net", cniVersion: "1.0.0", plugin: rendering.plugin,
                                                                   master: "eth1", deviceID: Bool.random(using: &random) ? "0000:3b:00.2" : nil,
                                                                   ipam: .allocated(IPNetwork("192.168.0.5/18")!, routes: [])))
                return nil
            } catch {
                #expect(!"\(error)".isEmpty)
                return "\(name): \("\(error)")"
            }
        }
        print(coverage)
        #expect(coverage.accepted > 0 && coverage.rejections.count > 3, "\(coverage)")
    }
}
