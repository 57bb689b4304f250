import Foundation
import MultiNICCloud
import Testing

/// SHA-256, HMAC and SigV4 against published vectors and independent implementations.
@Suite struct SigningTests {
    static func hex(_ text: String) -> String { SHA256.hex(SHA256.hash(Array(text.utf8))) }

    /// FIPS 180-4 examples.
    @Test func sha256MatchesThePublishedVectors() {
        #expect(Self.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// coreutils' sha256sum on inputs of every length around the block and padding boundaries.
    @Test func sha256AgreesWithSha256sum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("multinic-sha-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SystemRandomNumberGenerator()
        var expected: [String: String] = [:]
        var paths: [String] = []
        for length in Array(0...130) + [1000, 4096, 65_537] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let path = directory.appendingPathComponent("\(length)").path
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            expected[path] = SHA256.hex(SHA256.hash(bytes))
            paths.append(path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = paths
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = output.split(separator: "\n")
        #expect(lines.count == paths.count)
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            let path = String(parts[1].drop { $0 == " " || $0 == "*" })
            #expect(expected[path] == String(parts[0]), "\(path)")
        }
    }

    /// RFC 4231 test cases 2 and 6 (a key longer than a block).
    @Test func hmacMatchesRFC4231() {
        #expect(SHA256.hex(SHA256.hmac(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(SHA256.hex(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                       Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// AWS's documented example (IAM ListUsers, 2015-08-30), and a signed EC2 call with a session token whose
    /// signature botocore 1.x computed for the same inputs.
    @Test func sigV4MatchesAWSAndBotocore() {
        let key = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let iam = SigV4(service: "iam", region: "us-east-1").sign(
            method: "GET", path: "/", query: [("Version", "2010-05-08"), ("Action", "ListUsers")],
            headers: ["Host": "iam.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"], body: [],
            credentials: key, timestamp: "20150830T123600Z")
        #expect(iam.first { $0.0 == "Authorization" }?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")

        var session = key
        session.sessionToken = "SESSIONTOKEN"
        let body = "Action=AssignPrivateIpAddresses&NetworkInterfaceId=eni-1&PrivateIpAddress.1=10.0.1.20&Version=2016-11-15"
        let ec2 = SigV4(service: "ec2", region: "us-east-1").sign(
            method: "POST", path: "/", query: [],
            headers: ["Host": "ec2.us-east-1.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"],
            body: Array(body.utf8), credentials: session, timestamp: "20261203T060000Z")
        #expect(ec2.map(\.0) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(ec2.last?.1 == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/ec2/aws4_request, "
            + "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
            + "Signature=5f8371dba856cee56340fc7088c7cd95425bcf7edd8c06c5cada5ace76ba1813")
    }

    @Test func queryParametersAreEncodedAndSorted() {
        #expect(SigV4.canonicalQuery([("Filter.1.Value.1", "02:00:00:d3:39:5f"), ("Action", "Describe Network"), ("A", "~_-.")])
                == "A=~_-.&Action=Describe%20Network&Filter.1.Value.1=02%3A00%3A00%3Ad3%3A39%3A5f")
    }
}
