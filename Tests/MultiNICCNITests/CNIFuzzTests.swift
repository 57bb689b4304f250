import Foundation
@testable import MultiNICCNI
import MultiNICCore
import MultiNICTestSupport
import Testing

/// 100,000 generated invocations of both CNI binaries' logic (mutated NetConfs, hostile environments): none may
/// crash, and every failure must be the spec's error JSON on stdout with a non-zero exit. The daemon socket does
/// not exist, so a well-formed request ends as error 11 without touching anything.
@Suite(.ownThread) struct CNIFuzzTests {
    static let seeds = [
        #"{"cniVersion":"1.0.0","name":"multi-nic-sample","type":"multi-nic","ipam":{"type":"multi-nic-ipam","routes":[{"dst":"10.9.0.0/16"}]},"plugin":{"cniVersion":"1.0.0","mode":"l3","type":"ipvlan"},"subnet":"192.168.0.0/16","masterNets":["10.0.1.0/24","10.0.2.0/24"],"multiNICIPAM":true,"attachPolicy":{"strategy":"costOpt","target":"25Gbps"},"args":{"cni":{"nics":2,"masters":["eth1"],"class":"highspeed","target":"10Gbps"}},"runtimeConfig":{"mac":"x"}}"#,
        #"{"cniVersion":"1.1.0","name":"net","type":"multi-nic","ipam":{"type":"host-local","ranges":[[{"subnet":"10.99.0.0/24"}]]},"multiNICIPAM":false,"plugin":{"type":"macvlan"},"cni.dev/valid-attachments":[{"containerID":"c1","ifname":"net1"}]}"#,
        #"{"cniVersion":"0.4.0","name":"net","type":"multi-nic","plugin":{"type":"sriov"},"resourceNames":["openshift.io/a"],"prevResult":{"cniVersion":"0.4.0","interfaces":[{"name":"net1-0","sandbox":"/nonexistent/ns"}],"ips":[{"version":"4","address":"192.168.0.1/18","interface":0}]}}"#,
        #"{"cniVersion":"1.0.0","name":"net","type":"macvlan","master":"eth1","ipam":{"type":"multi-nic-ipam","routes":[{"dst":"10.1.0.0/16","gw":"10.0.0.1"}],"dns":{"nameservers":["1.1.1.1"]}}}"#,
    ]
    static let commands = ["ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION", "", "add", "ADD\u{0}", String(repeating: "A", count: 300)]
    static let tokens = ["{", "}", "[", "]", ",", ":", "\"", "\\", "null", "true", "-1", "1e999", "18446744073709551616", "\"\u{FFFF}\"",
                         "\"cniVersion\"", "\"name\"", "\"args\"", "\"cni\"", "\"nics\"", "\"prevResult\"", "{\"a\":[[[[[[[[]]]]]]]]}", "\u{00}"]

    /// One generated invocation: environment and stdin.
    static func generate(_ random: inout SeededRandom) -> CNIEnvironment {
        var text = Array(seeds.randomElement(using: &random)!.utf8)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: // byte edits
            for _ in 0..<Int.random(in: 1...8, using: &random) where !text.isEmpty {
                let position = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: text[position] = UInt8.random(in: 0...255, using: &random)
                case 1: text.remove(at: position)
                default: text.insert(UInt8.random(in: 0...255, using: &random), at: position)
                }
            }
        case 1: // truncation
            text = Array(text.prefix(Int.random(in: 0...text.count, using: &random)))
        case 2: // a token spliced in
            let token = Array(tokens.randomElement(using: &random)!.utf8)
            text.insert(contentsOf: token, at: Int.random(in: 0...text.count, using: &random))
        case 3: // a value of the wrong type at a known key
            let key = ["cniVersion", "name", "plugin", "masterNets", "multiNICIPAM", "args", "ipam", "prevResult", "attachPolicy",
                       "cni.dev/valid-attachments", "master", "resourceNames", "daemonSocket"].randomElement(using: &random)!
            let value = ["1", "\"\"", "null", "[1,{}]", "{\"type\":7}", "true", "\"../../etc\"", "{\"cni\":{\"nics\":\"x\"}}"]
                .randomElement(using: &random)!
            text = Array(String(decoding: text, as: UTF8.self).replacingOccurrences(of: "\"\(key)\":", with: "\"\(key)\":\(value),\"x\(key)\":").utf8)
        default: // unchanged config, hostile environment only
            break
        }
        var variables = ["CNI_COMMAND": commands.randomElement(using: &random)!, "CNI_CONTAINERID": "c\(random.next() % 100)",
                         "CNI_NETNS": ["", "/nonexistent/netns", "relative"].randomElement(using: &random)!,
                         "CNI_IFNAME": ["net1", "", "eth0", String(repeating: "x", count: 40)].randomElement(using: &random)!,
                         "CNI_PATH": ["/nonexistent", "", ":::"].randomElement(using: &random)!,
                         "CNI_ARGS": ["K8S_POD_NAME=p;K8S_POD_NAMESPACE=d", ";;=;a", "IgnoreUnknown=1;IP=1.2.3.4", ""].randomElement(using: &random)!]
        if Bool.random(using: &random) { variables.removeValue(forKey: variables.keys.sorted().randomElement(using: &random)!) }
        return CNIEnvironment(variables: variables, stdin: text)
    }

    /// Exit 0 prints nothing or a JSON object; anything else prints the error JSON.
    static func conforms(_ output: String, _ code: Int32) -> Bool {
        if code == 0 { return output.isEmpty || (try? JSONValue.parse(output))?.objectValue != nil }
        guard let error = (try? JSONValue.parse(output))?.objectValue, case .integer? = error["code"],
              error["msg"]?.stringValue != nil, error["cniVersion"]?.stringValue != nil else { return false }
        return true
    }

    /// 100 000 in CI; `MULTINIC_FUZZ_CASES` (bench/run fuzz: 1 000 000) overrides.
    static var cases: Int { FuzzHarness.cases(ci: 100_000) }

    @Test func generatedInvocationsAlwaysEndInResultOrErrorJSON() throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-fuzz-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        let multiNIC = MultiNICHandler(defaultSocket: "/nonexistent/multinic-fuzz.sock", defaultStateDirectory: state)
        let ipam = MultiNICIPAMHandler(defaultSocket: "/nonexistent/multinic-fuzz.sock", defaultStateDirectory: state)
        var failures: [String] = []
        var codes: [Int32: Int] = [:]
        // Under the harness: a crash or a hang names the seed and the case.
        let coverage = FuzzHarness.run(kind: "cni-invocation", seed: 0x5EED_F022, cases: Self.cases) { random, iteration in
            // A generated `daemonSocket`/`cniStateDir` is left in: the handlers take neither from a NetConf.
            let environment = Self.generate(&random)
            let (output, code) = iteration % 2 == 0 ? CNIDispatcher.run(environment, handler: multiNIC)
                                                    : CNIDispatcher.run(environment, handler: ipam)
            codes[code, default: 0] += 1
            if !Self.conforms(output, code) && failures.count < 5 {
                failures.append("#\(iteration) \(environment.variables) \(String(decoding: environment.stdin, as: UTF8.self)) → \(code) \(output)")
            }
            return code == 0 ? nil : (try? JSONValue.parse(output))?.objectValue?["msg"]?.stringValue ?? "not the error JSON"
        }
        print(coverage)
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(codes[1, default: 0] > Self.cases / 2 && codes[0, default: 0] > Self.cases / 100, "both outcomes exercised: \(codes)")
    }
}
