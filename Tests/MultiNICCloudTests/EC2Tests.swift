import Foundation
import MultiNICCloud
import Synchronization
import MultiNICTestSupport
import Testing

/// A pause that records instead of sleeping.
final class Pauses: Sendable {
    let taken = Mutex<[Duration]>([])
    var all: [Duration] { taken.withLock { $0 } }
    var record: @Sendable (Duration) -> Void { { [self] duration in taken.withLock { $0.append(duration) } } }
}

let motoMissing = "needs moto_server (CI installs it through .ci/install-deps --tests into /opt/multinic-test-venv)"

/// The EC2 client against moto, a real EC2 emulator: the ENI found by MAC, assignment visible through the EC2 API,
/// throttling retried with doubling pauses, credentials and region from an IMDSv2.
@Suite(.enabled(if: MotoServer.executable != nil, "\(motoMissing)"))
struct EC2Tests {
    static let environment = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1"]

    static func client(_ endpoint: String, pauses: Pauses = Pauses(), environment: [String: String] = Self.environment,
                       imds: String? = nil, region: String? = nil) -> EC2Addresses {
        var settings = AWSSettings(ec2Endpoint: endpoint, region: region)
        settings.attempts = 4
        settings.firstPause = .milliseconds(100)
        if let imds { settings.imdsEndpoint = imds }
        // The in-test IMDS shares two loaded cores with the whole suite: the link-local default of 2 s is too tight.
        settings.imdsTimeoutSeconds = 20
        return EC2Addresses(client: EC2Client(settings: settings, identity: AWSIdentity(settings: settings, environment: environment),
                                              pause: pauses.record))
    }

    @Test func addressesAreAssignedToTheENIWithTheMACAndUnassignedAgain() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let admin = moto.admin
        let (eni, mac) = try moto.makeInterface(cidr: "10.0.1.0/24", primary: "10.0.1.10")
        let other = try moto.makeInterface(cidr: "10.1.1.0/24", primary: "10.1.1.10")
        let front = try await ThrottlingEC2(moto: moto.endpoint)
        defer { front.stop() }
        let ec2 = Self.client(front.url)
        let found = try await detached { try ec2.interface(mac: mac.uppercased()) }
        #expect(found == eni, "MACs compare without case")
        try await detached { try ec2.assign(["10.0.1.20", "10.0.1.21"], mac: mac) }
        #expect(try admin.addresses(eni: eni) == ["10.0.1.10", "10.0.1.20", "10.0.1.21"])
        #expect(try admin.addresses(eni: other.eni) == ["10.1.1.10"], "only the NIC's own ENI")
        try await detached { try ec2.unassign(["10.0.1.20"], mac: mac) }
        #expect(try admin.addresses(eni: eni) == ["10.0.1.10", "10.0.1.21"])
        // Unassigning what the ENI does not have (any more) is success, and the rest still goes.
        try await detached { try ec2.unassign(["10.0.1.20", "10.0.1.21"], mac: mac) }
        try await detached { try ec2.unassign(["10.0.1.20"], mac: mac) }
        #expect(try admin.addresses(eni: eni) == ["10.0.1.10"])
        #expect(front.requests.map(\.action).filter { $0.hasPrefix("Unassign") }.count == 4,
                "an unassignment refused for an address the ENI lacks is made again with those it has (\(front.requests.map(\.action)))")
        await #expect(throws: CloudError.noInterface(mac: "02:00:00:00:00:99")) { try await detached { try ec2.assign(["10.0.1.30"], mac: "02:00:00:00:00:99") } }
    }

    @Test func throttlingIsRetriedWithDoublingPausesAndReportedWhenItLasts() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let admin = moto.admin
        let (eni, mac) = try moto.makeInterface(cidr: "10.0.1.0/24", primary: "10.0.1.10")
        let front = try await ThrottlingEC2(moto: moto.endpoint)
        defer { front.stop() }
        let pauses = Pauses()
        let ec2 = Self.client(front.url, pauses: pauses)
        _ = try await detached { try ec2.interface(mac: mac) }
        front.setThrottle(2)
        try await detached { try ec2.assign(["10.0.1.20"], mac: mac) }
        #expect(try admin.addresses(eni: eni).contains("10.0.1.20"))
        #expect(pauses.all == [.milliseconds(100), .milliseconds(200)])
        #expect(front.requests.suffix(3).map(\.action) == Array(repeating: "AssignPrivateIpAddresses", count: 3))

        front.setThrottle(-1)
        do {
            try await detached { try ec2.assign(["10.0.1.21"], mac: mac) }
            Issue.record("a call throttled every time succeeded")
        } catch let error as CloudError {
            #expect(error == .throttled(attempts: 4, last: "503 RequestLimitExceeded: Request limit exceeded."))
            #expect(error.isTransient)
        }
        #expect(try !admin.addresses(eni: eni).contains("10.0.1.21"))
    }

    /// No credentials in the environment: IMDSv2 gives the instance role's (token first, refused without one) and
    /// the region; the calls are signed with them.
    @Test func credentialsAndRegionComeFromIMDSv2() async throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let admin = moto.admin
        let (eni, mac) = try moto.makeInterface(cidr: "10.0.1.0/24", primary: "10.0.1.10")
        let front = try await ThrottlingEC2(moto: moto.endpoint)
        defer { front.stop() }
        let imds = try await LoopbackServer { method, path, headers, _ in
            if method == "PUT" && path == "/latest/api/token" {
                return headers["x-aws-ec2-metadata-token-ttl-seconds"] == nil ? (400, "ttl missing") : (200, "TOKEN-1")
            }
            guard headers["x-aws-ec2-metadata-token"] == "TOKEN-1" else { return (401, "") }
            switch path {
            case "/latest/meta-data/placement/region": return (200, "us-east-1")
            case "/latest/meta-data/iam/security-credentials/": return (200, "node-role\n")
            case "/latest/meta-data/iam/security-credentials/node-role":
                return (200, #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"s3cr3t","Token":"IMDSTOKEN","Expiration":"2099-01-01T00:00:00Z"}"#)
            default: return (404, "")
            }
        }
        defer { imds.stop() }
        // No region set and none in the environment: IMDS's (moto keeps each region apart: the ENI is only found there).
        let ec2 = Self.client(front.url, environment: [:], imds: imds.url)
        try await detached { try ec2.assign(["10.0.1.22"], mac: mac) }
        #expect(try admin.addresses(eni: eni).contains("10.0.1.22"))
        let authorization = try #require(front.requests.last?.authorization)
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=ASIAIMDS/") && authorization.contains("/us-east-1/ec2/aws4_request"),
                "\(authorization)")
        #expect(authorization.contains("x-amz-security-token"), "\(authorization)")

        // Without IMDS and without credentials: a clear error naming both sources.
        let lost = Self.client(front.url, environment: [:], imds: "http://127.0.0.1:1", region: "us-east-1")
        await #expect { try await detached { try lost.assign(["10.0.1.23"], mac: mac) } } throws: { error in
            "\(error)".contains("AWS_ACCESS_KEY_ID") && "\(error)".contains("instance metadata service")
        }
    }

    /// An instance-metadata request that gets no answer in time is made again (the service can be briefly slow while
    /// the instance boots); an HTTP error is not retried.
    @Test func anUnansweredMetadataRequestIsMadeAgain() async throws {
        let tokens = Mutex(0), roles = Mutex(0)
        let imds = try await LoopbackServer { method, path, _, _ in
            if method == "PUT" && path == "/latest/api/token" {
                // The first token request is never answered in time; the next ones at once.
                if tokens.withLock({ $0 += 1; return $0 }) == 1 { try? await Task.sleep(for: .seconds(60)) }
                return (200, "TOKEN-1")
            }
            if path == "/latest/meta-data/iam/security-credentials/" { roles.withLock { $0 += 1 } }
            return path == "/latest/meta-data/placement/region" ? (200, "eu-west-1") : (404, "")
        }
        var settings = AWSSettings()
        settings.imdsEndpoint = imds.url
        settings.imdsTimeoutSeconds = 1
        // Many attempts: on a loaded machine an answered request may miss one second too.
        settings.imdsAttempts = 20
        let identity = AWSIdentity(settings: settings, environment: [:])
        #expect(try await detached { try identity.region() } == "eu-west-1")
        #expect(tokens.withLock { $0 } >= 2, "the token request that timed out was made again")
        // No role: an HTTP 404 is an answer, asked once (a patient client: no timeout gets in the way).
        settings.imdsTimeoutSeconds = 30
        let patient = AWSIdentity(settings: settings, environment: [:])
        await #expect(throws: CloudError.self) { try await detached { try patient.credentials() } }
        #expect(roles.withLock { $0 } == 1, "an answer (404) is not asked again")
    }
}
