import Foundation
import MultiNICCore
@testable import MultiNICKube
import MultiNICPluginHost
import MultiNICTestSupport
import Testing

/// Kubeconfig files through the YAML bridge (`libmultinic-yaml.so`, loaded with dlopen) and as JSON.
@Suite struct KubeconfigBridgeTests {
    /// YAML's core schema becomes JSON's types; quoted scalars stay strings; aliases and merge keys are expanded.
    @Test func yamlBecomesJSONWithItsTypes() throws {
        let bridge = try YAMLBridge.shared()
        let json = try bridge.json(fromYAML: """
            plain: text
            quoted: "true"
            single: '42'
            yes-flag: true
            count: 0x1f
            ratio: 2.5
            nothing: ~
            empty:
            list: [a, 1, false]
            base: &base {server: "https://a", port: 443}
            merged:
              <<: *base
              port: 6443
            block: |
              line one
              line two
            tail: end
            """)
        let value = try JSONValue.parse(json).objectValue ?? [:]
        #expect(value["plain"] == .string("text") && value["quoted"] == .string("true") && value["single"] == .string("42"))
        #expect(value["yes-flag"] == .bool(true) && value["count"] == .integer(31) && value["ratio"] == .double(2.5))
        #expect(value["nothing"] == .null && value["empty"] == .null)
        #expect(value["list"] == .array([.string("a"), .integer(1), .bool(false)]))
        #expect(value["merged"] == .object(["server": .string("https://a"), "port": .integer(6443)]), "own keys win over merged ones")
        #expect(value["block"] == .string("line one\nline two\n"))
    }

    /// What YAML allows and JSON cannot say is refused with its place; broken YAML with the parser's reason.
    @Test func yamlThatIsNotJSONIsRefusedWithItsLine() throws {
        let bridge = try YAMLBridge.shared()
        func refusal(_ yaml: String) -> String {
            do {
                _ = try bridge.json(fromYAML: yaml)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(refusal("a: 1\nb: 2\na: 3\n").contains("duplicated key(s): 'a'"))
        #expect(refusal("1: a\n\"1\": b\n").contains("line 2, column 1: duplicate key \"1\""), "two YAML keys, one JSON key")
        #expect(refusal("? [x, y]\n: 1\n").contains("mapping key must be a scalar"))
        #expect(refusal("ratio: .inf\n").contains("not a JSON number"))
        #expect(refusal("a: [1, 2\n").hasPrefix("not valid YAML: "))
        #expect(refusal("a: b\u{0}c\n").contains("NUL"))
        #expect(refusal("--- 1\n--- 2\n") != "accepted", "one document only")
    }

    /// The bridge is found only where the program is, trust-checked like a plugin, and must be the bridge.
    @Test func onlyATrustedBridgeIsOpened() throws {
        let notABridge = try BuiltPlugins.libraries(prefix: "libmultinic-policy-none").first.map(\.path) ?? ""
        #expect(throws: YAMLBridgeError.notABridge(path: notABridge)) { try YAMLBridge.open(notABridge) }
        let bridge = try YAMLBridge.shared()
        let directory = try BuiltPlugins.makeDirectory([(name: YAMLBridgeABI.libraryName, source: URL(fileURLWithPath: bridge.path))])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let copy = directory + "/" + YAMLBridgeABI.libraryName
        #expect(try YAMLBridge.open(copy).json(fromYAML: "a: 1") == #"{"a":1}"#)
        chmod(copy, 0o775)
        var refusal: YAMLBridgeError?
        do {
            _ = try YAMLBridge.open(copy)
        } catch {
            refusal = error
        }
        if case .unusable(.untrusted)? = refusal {} else { Issue.record("a group-writable bridge: \(String(describing: refusal))") }
        #expect(YAMLBridge.defaultCandidates().first?.hasSuffix("/" + YAMLBridgeABI.libraryName) == true)
    }

    /// The same kubeconfig as JSON and as YAML gives the same client configuration; JSON never loads the bridge.
    @Test func aJSONKubeconfigNeedsNoBridgeAndMatchesItsYAML() throws {
        let yaml = try String(contentsOf: Self.fixture, encoding: .utf8)
        let fromYAML = try KubeconfigFile.parse(yaml)
        let json = try YAMLBridge.shared().json(fromYAML: yaml)
        let fromJSON = try KubeconfigFile.parse("\n  " + json) { () throws(YAMLBridgeError) -> YAMLBridge in
            throw .notFound(tried: ["(the JSON path must not ask for the bridge)"])
        }
        #expect(fromJSON.currentContext == "lab-admin@lab" && fromYAML.currentContext == fromJSON.currentContext)
        #expect(fromYAML.clusters?.map(\.value.server) == fromJSON.clusters?.map(\.value.server))
        #expect(fromJSON.clusters?.last?.value.insecureSkipTLSVerify == true)
        #expect(fromJSON.users?.last?.value.token == "robot-token")
        #expect(throws: KubeconfigFileError.self) {
            _ = try KubeconfigFile.parse("current-context: x\n") { () throws(YAMLBridgeError) -> YAMLBridge in
                throw .notFound(tried: ["nowhere"])
            }
        }
    }

    /// A field of the wrong type is named with its path, from YAML as from JSON; an empty file says so.
    @Test func aWrongFieldIsNamed() throws {
        func message(_ text: String) -> String {
            do {
                _ = try KubeconfigFile.parse(text)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(message("clusters:\n- name: a\n  cluster:\n    server: 5\n") == "clusters[0].cluster.server: must be a string")
        #expect(message(#"{"clusters":[{"name":"a","cluster":{"insecure-skip-tls-verify":"yes"}}]}"#)
            == "clusters[0].cluster.insecure-skip-tls-verify: must be a boolean (true or false)")
        #expect(message("contexts:\n- context: {}\n") == "contexts[0].name: is required")
        #expect(message("# nothing\n") == "the file is empty")
        let directory = NSTemporaryDirectory() + "multinic-kubeconfig-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "clusters: [}\n".write(toFile: directory + "/config", atomically: true, encoding: .utf8)
        do {
            _ = try KubeConfig.kubeconfig(path: directory + "/config")
            Issue.record("broken YAML was accepted")
        } catch {
            #expect(error.description.contains(directory + "/config: not valid YAML"))
        }
    }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/kubeconfig.yaml")
}
