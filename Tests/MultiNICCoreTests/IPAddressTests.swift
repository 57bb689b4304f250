import MultiNICCore
import Testing

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("10.0.1.5", "10.0.1.5"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
        ("fd00:1::", "fd00:1::"), ("FD00:0:0:0:0:0:0:1", "fd00::1"), ("::", "::"), ("::1", "::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"),
        ("::ffff:10.1.2.3", "::ffff:a01:203"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1::", "1::"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ])
    func parsesAndFormatsCanonically(input: String, canonical: String) throws {
        let address = try #require(IPAddress(input))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "a.b.c.d", "1.2.3.4 ", ":::", "1:::2",
        "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::", "+1::", "1:2:3:4:5:6:7", ":1:2:3:4:5:6:7",
    ])
    func rejectsMalformedAddresses(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func networkParsingReportsTheReason() {
        #expect(IPNetwork.parse("192.168.0.0") == .failure(.missingPrefix("192.168.0.0")))
        #expect(IPNetwork.parse("192.168.0/16") == .failure(.badAddress("192.168.0/16")))
        #expect(IPNetwork.parse("10.0.0.0/33") == .failure(.badPrefix("10.0.0.0/33", maximum: 32)))
        #expect(IPNetwork.parse("fd00::/129") == .failure(.badPrefix("fd00::/129", maximum: 128)))
        #expect(IPNetwork.parse("10.0.0.0/-1") == .failure(.badPrefix("10.0.0.0/-1", maximum: 32)))
        #expect(IPNetwork.parse("10.0.0.1", bareAddressAsHost: true).map(\.description) == .success("10.0.0.1/32"))
    }

    @Test func normalisationAndContainment() throws {
        let odd = try #require(IPNetwork("192.168.64.0/16"))
        #expect(!odd.isNormalized)
        #expect(odd.normalized.description == "192.168.0.0/16")
        let subnet = try #require(IPNetwork("192.168.0.0/16"))
        #expect(subnet.contains(try #require(IPNetwork("192.168.255.0/24"))))
        #expect(!subnet.contains(try #require(IPNetwork("192.0.0.0/8"))))
        #expect(!subnet.contains(try #require(IPAddress("192.169.0.1"))))
        #expect(subnet.lastAddress.description == "192.168.255.255")
        let v6 = try #require(IPNetwork("fd00:10::/32"))
        #expect(v6.lastAddress.description == "fd00:10:ffff:ffff:ffff:ffff:ffff:ffff")
        #expect(!v6.contains(try #require(IPAddress("10.0.0.1"))))
    }

    @Test func subnetIndexLaysBitsMSBFirstAfterThePrefix() throws {
        let subnet = try #require(IPNetwork("192.168.0.0/16"))
        #expect(subnet.subnet(index: 0, extraBits: 2)?.description == "192.168.0.0/18")
        #expect(subnet.subnet(index: 1, extraBits: 2)?.description == "192.168.64.0/18")
        #expect(subnet.subnet(index: 3, extraBits: 2)?.description == "192.168.192.0/18")
        #expect(subnet.subnet(index: 4, extraBits: 2) == nil)
        #expect(subnet.subnet(index: 0, extraBits: 17) == nil)
        let v6 = try #require(IPNetwork("fd00:10::/48"))
        #expect(v6.subnet(index: 5, extraBits: 16)?.description == "fd00:10:0:5::/64")
        #expect(v6.subnet(index: 1, extraBits: 4)?.description == "fd00:10:0:1000::/52")
    }

    @Test func poolNamesAreValidObjectNames() throws {
        let v4 = try #require(IPNetwork("192.168.0.64/26"))
        #expect(BlockMath.poolName(network: "net", podCIDR: v4) == "net-192.168.0.64-26")
        let v6 = try #require(IPNetwork("fd00:10:0:5::/64"))
        let name = BlockMath.poolName(network: "net", podCIDR: v6)
        #expect(name == "net-fd00-10-0-5-0-0-0-0-64")
        #expect(NameRules.subdomainProblem(name) == nil)
    }
}
