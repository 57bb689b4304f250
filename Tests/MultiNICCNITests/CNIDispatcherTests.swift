import MultiNICCNI
import MultiNICCore
import Testing

/// A handler that records what it was asked and answers a fixed result.
struct RecordingHandler: CNIHandler {
    var failure: (any Error)?

    func add(_ arguments: CNIArguments, stdin: [UInt8]) throws -> String {
        if let failure { throw failure }
        return "{\"added\":\"\(arguments.ifName)\"}"
    }
    func delete(_ arguments: CNIArguments, stdin: [UInt8]) throws { if let failure { throw failure } }
    func check(_ arguments: CNIArguments, stdin: [UInt8]) throws {}
    func status(_ arguments: CNIArguments, stdin: [UInt8]) throws {}
    func gc(_ arguments: CNIArguments, stdin: [UInt8]) throws {}
}

@Suite struct CNIDispatcherTests {
    static let config = #"{"cniVersion":"0.4.0","name":"net","type":"multi-nic","plugin":{"type":"macvlan"}}"#

    func run(_ variables: [String: String], stdin: String = CNIDispatcherTests.config,
             handler: RecordingHandler = RecordingHandler()) async -> (stdout: String, exitCode: Int32) {
        CNIDispatcher.run(CNIEnvironment(variables: variables, stdin: Array(stdin.utf8)), handler: handler)
    }

    static let add = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_NETNS": "/var/run/netns/x", "CNI_IFNAME": "net1",
                      "CNI_PATH": "/opt/cni/bin", "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p1;K8S_POD_UID=u1"]

    @Test func versionListsEverySupportedVersion() async {
        let output = await run(["CNI_COMMAND": "VERSION"], stdin: "")
        #expect(output == (#"{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"#, 0))
    }

    @Test func addAnswersThroughTheHandler() async {
        #expect(await run(Self.add) == (#"{"added":"net1"}"#, 0))
    }

    @Test(arguments: [
        ([:], #"{"cniVersion":"0.4.0","code":4,"msg":"CNI_COMMAND is not set"}"#),
        (["CNI_COMMAND": "ATTACH"], #"{"cniVersion":"0.4.0","code":4,"details":"one of ADD, DEL, CHECK, STATUS, GC, VERSION","msg":"unknown CNI_COMMAND ATTACH"}"#),
        (["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "c1", "CNI_IFNAME": "net1", "CNI_PATH": "/opt/cni/bin"],
         #"{"cniVersion":"0.4.0","code":4,"msg":"CNI_NETNS is required for ADD"}"#),
    ] as [([String: String], String)])
    func environmentErrorsAreCode4(variables: [String: String], expected: String) async {
        #expect(await run(variables) == (expected, 1))
    }

    @Test func unexpectedErrorsBecome999AndCNIErrorsPassThrough() async {
        struct Boom: Error {}
        #expect(await run(Self.add, handler: RecordingHandler(failure: Boom())).stdout.contains(#""code":999"#))
        let typed = await run(Self.add, handler: RecordingHandler(failure: CNIError(11, "daemon unreachable", details: "/run/x.sock")))
        #expect(typed == (#"{"cniVersion":"0.4.0","code":11,"details":"/run/x.sock","msg":"daemon unreachable"}"#, 1))
    }

    @Test func argumentsAreSplit() throws {
        let arguments = try CNIArguments(CNIEnvironment(variables: Self.add, stdin: []))
        #expect(arguments.args == ["K8S_POD_NAMESPACE": "default", "K8S_POD_NAME": "p1", "K8S_POD_UID": "u1"])
        #expect(arguments.path == ["/opt/cni/bin"])
    }
}

@Suite struct NetConfTests {
    @Test func readsTheRenderedNADConfigWithMultusInjections() throws {
        let text = #"{"cniVersion":"1.0.0","name":"multi-nic-sample","type":"multi-nic","ipam":{"type":"multi-nic-ipam","hostBlock":6},"dns":{},"plugin":{"cniVersion":"1.0.0","mode":"l3","type":"ipvlan"},"subnet":"192.168.0.0/16","masterNets":["10.0.1.0/24","10.0.2.0/24"],"multiNICIPAM":true,"daemonIP":"","daemonPort":11000,"attachPolicy":{"strategy":"costOpt","target":"25Gbps"},"args":{"cni":{"nics":2,"class":"highspeed"}},"runtimeConfig":{"mac":"x"}}"#
        let config = try MultiNICNetConf(stdin: Array(text.utf8))
        #expect(config.name == "multi-nic-sample")
        #expect(config.masterNets == ["10.0.1.0/24", "10.0.2.0/24"])
        #expect(config.multiNICIPAM)
        #expect(config.plugin["mode"] == .string("l3"))
        #expect(config.attachPolicy == AttachPolicySpec(strategy: "costOpt", target: "25Gbps"))
        #expect(config.podArgs == PodRequest(nics: 2, deviceClass: "highspeed"))
    }

    @Test(arguments: [
        ("{", CNIError.decodingFailure), ("[]", CNIError.decodingFailure),
        (#"{"name":"n"}"#, CNIError.invalidConfig), (#"{"cniVersion":"0.2.0","name":"n"}"#, CNIError.incompatibleVersion),
        (#"{"cniVersion":"1.0.0","name":5}"#, CNIError.invalidConfig),
        (#"{"cniVersion":"1.0.0","name":"n","args":{"cni":{"nics":-2}}}"#, CNIError.invalidConfig),
    ] as [(String, UInt)])
    func badConfigsAreNamedErrors(text: String, code: UInt) {
        #expect(throws: CNIError.self) { try MultiNICNetConf(stdin: Array(text.utf8)) }
        do {
            _ = try MultiNICNetConf(stdin: Array(text.utf8))
        } catch {
            #expect(error.code == code, "\(text): \(error)")
        }
    }
}

@Suite struct CNIResultTests {
    static func nicResult(_ name: String, _ address: String) throws -> CNIResult {
        try CNIResult.parse(JSONValue.parse(#"{"cniVersion":"1.0.0","interfaces":[{"name":"\#(name)","mac":"aa:bb","sandbox":"/var/run/netns/p"}],"ips":[{"address":"\#(address)","interface":0}],"dns":{}}"#))
    }

    @Test func multiNICResultsRenumberInterfacesAndConvertBetweenVersions() throws {
        var result = try Self.nicResult("net1-0", "192.168.0.65/18")
        result.append(try Self.nicResult("net1-1", "fd00:10::5/50"))
        #expect(result.ips.map(\.interface) == [0, 1])
        let modern = result.json(version: "1.1.0").description
        #expect(modern == #"{"cniVersion":"1.1.0","dns":{},"interfaces":[{"mac":"aa:bb","name":"net1-0","sandbox":"/var/run/netns/p"},{"mac":"aa:bb","name":"net1-1","sandbox":"/var/run/netns/p"}],"ips":[{"address":"192.168.0.65/18","interface":0},{"address":"fd00:10::5/50","interface":1}]}"#)
        let old = result.json(version: "0.3.1").description
        #expect(old.contains(#"{"address":"192.168.0.65/18","interface":0,"version":"4"}"#))
        #expect(old.contains(#"{"address":"fd00:10::5/50","interface":1,"version":"6"}"#))
        #expect(throws: CNIError.self) { try CNIResult.parse(JSONValue.parse(#"{"ips":[{"address":"nope"}]}"#)) }
    }
}
