#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MultiNICCore
import MultiNICHTTP
import MultiNICNetlink
import Synchronization

/// moto (PyPI, `moto[server]`) in server mode: a real EC2 emulator, in the venv `.ci/install-deps --tests` makes.
/// Started on a free loopback port, in the test's network namespace or in one of the test's own (where a daemon under
/// test reaches it at 127.0.0.1); stopped with SIGKILL (a child of a test thread inherits a mask that blocks SIGTERM).
public final class MotoServer: Sendable {
    /// Where `.ci/install-deps --tests` installs it (`MULTINIC_MOTO_SERVER` overrides).
    public static var executable: String? {
        let path = ProcessInfo.processInfo.environment["MULTINIC_MOTO_SERVER"] ?? "/opt/multinic-test-venv/bin/moto_server"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    let process: Process
    public let endpoint: String
    /// The namespace it listens in (nil: the test process's).
    public let namespace: String?

    public init(namespace: String? = nil) throws {
        guard let executable = Self.executable else { throw Missing() }
        // In a namespace of the test's own, the port is free anyway.
        let port = namespace == nil ? try Self.freePort() : 5000
        process = Process()
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, executable, "-H", "127.0.0.1", "-p", String(port)]
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.namespace = namespace
        endpoint = "http://127.0.0.1:\(port)"
        let admin = MotoAdmin(endpoint: endpoint, namespace: namespace)
        for _ in 0..<300 {
            if let answer = try? admin.perform(MultiNICHTTP.HTTPRequest(endpoint: .url(endpoint), method: "GET", path: "/moto-api/",
                                                                         timeoutSeconds: 2)),
               answer.status < 500 { return }
            usleep(50_000)
        }
        stop()
        throw Missing()
    }

    public var admin: MotoAdmin { MotoAdmin(endpoint: endpoint, namespace: namespace) }

    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A VPC subnet and an ENI in it with `primary` as its primary address: (ENI id, MAC).
    public func makeInterface(cidr: String, primary: String) throws -> (eni: String, mac: String) {
        let vpc = try admin.value("CreateVpc", [("CidrBlock", cidr.replacingOccurrences(of: "/24", with: "/16"))], "vpcId")
        let subnet = try admin.value("CreateSubnet", [("VpcId", vpc), ("CidrBlock", cidr)], "subnetId")
        let created = try admin.call("CreateNetworkInterface", [("SubnetId", subnet), ("PrivateIpAddress", primary)])
        return (try MotoAdmin.first("networkInterfaceId", created), try MotoAdmin.first("macAddress", created))
    }

    static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw Missing() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "moto_server is not installed or did not start (bash .ci/install-deps --tests)" }
    }
}

/// Unsigned calls straight to moto (it does not check signatures), for setting up and reading back what a test
/// checks: an independent view of EC2's state. In a namespace, each call is made from a thread that entered it.
public struct MotoAdmin: Sendable {
    public let endpoint: String
    public let namespace: String?

    public init(endpoint: String, namespace: String? = nil) {
        self.endpoint = endpoint
        self.namespace = namespace
    }

    public func call(_ action: String, _ parameters: [(String, String)]) throws -> String {
        let body = ([("Action", action), ("Version", "2016-11-15")] + parameters)
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        let answer = try perform(MultiNICHTTP.HTTPRequest(
            endpoint: .url(endpoint), method: "POST", path: "/",
            headers: ["Content-Type: application/x-www-form-urlencoded",
                      "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0"],
            body: Array(body.utf8)))
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else { throw Failure(text: "\(action): \(answer.status) \(text)") }
        return text
    }

    public func value(_ action: String, _ parameters: [(String, String)], _ element: String) throws -> String {
        try Self.first(element, try call(action, parameters))
    }

    /// The ENI's private addresses, as EC2 reports them.
    public func addresses(eni: String) throws -> Set<String> {
        Set(Self.all("privateIpAddress", try call("DescribeNetworkInterfaces", [("NetworkInterfaceId.1", eni)])))
    }

    /// One request, from inside ``namespace`` when there is one (a socket belongs to the namespace of the thread that
    /// makes it).
    func perform(_ request: MultiNICHTTP.HTTPRequest) throws -> (status: Int, body: [UInt8]) {
        guard let namespace else { return try CurlTransport.perform(request) }
        let result = Mutex<Result<(status: Int, body: [UInt8]), TransportError>>(.failure(TransportError("cannot enter \(namespace)")))
        _ = NetworkNamespace.run(inNamespaceAt: "/var/run/netns/" + namespace) {
            let answer = Result { () throws(TransportError) in try CurlTransport.perform(request) }
            result.withLock { $0 = answer }
        }
        return try result.withLock { $0 }.get()
    }

    public static func first(_ element: String, _ xml: String) throws -> String {
        guard let found = all(element, xml).first else { throw Failure(text: "no <\(element)> in \(xml.prefix(300))") }
        return found
    }

    public static func all(_ element: String, _ xml: String) -> [String] {
        xml.components(separatedBy: "<\(element)>").dropFirst().compactMap { $0.components(separatedBy: "</\(element)>").first }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var text: String
        public var description: String { text }
    }
}
