import MultiNICCore
import Testing

@Suite struct SafeNameTests {
    @Test(arguments: ["net", "multi-nic-sample", "a.b_c-1", "net-192.168.0.0-24", String(repeating: "a", count: 253)])
    func safe(name: String) throws {
        #expect(try SafeName(name).value == name)
    }

    @Test(arguments: ["", ".", "..", "../x", "a/b", "a b", "a\nb", "é", String(repeating: "a", count: 254), "a\u{0}b"])
    func unsafe(name: String) {
        #expect(throws: SafeNameError.self) { try SafeName(name) }
    }

    @Test func logTextKeepsOneRecordOneLine() {
        #expect(LogText.escaped("a\nb\r\t\"\\\u{1b}") == #"a\nb\r\t\"\\\u{1b}"#)
        #expect(LogText.escaped(String(repeating: "x", count: 10), limit: 4) == "xxxx…")
    }

    @Test(arguments: [(1e300, nil), (Double.infinity, nil), (Double.nan, nil), (-1, nil), (9.3e18, nil), (42.4, 42), (1e9, 1_000_000_000)]
        as [(Double, Int?)])
    func checkedNumbers(value: Double, expected: Int?) {
        #expect(CheckedNumber.integer(value, in: 0...1_000_000_000) == expected)
    }
}
