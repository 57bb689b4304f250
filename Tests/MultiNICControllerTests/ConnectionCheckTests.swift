import Foundation

import MultiNICController
@testable import MultiNICLab
import Testing

/// The connection check's output: upstream's table, the summary, the heatmaps.
@Suite struct ConnectionCheckTests {
    let results = [
        ConnectionResult(from: "a-pod", to: "b-pod", fromHost: "a", toHost: "b", addresses: ["192.168.1.1", "192.168.65.1"],
                         bandwidths: [8.8e9, 7.81e9]),
        ConnectionResult(from: "b-pod", to: "a-pod", fromHost: "b", toHost: "a", addresses: ["192.168.0.1", "192.168.64.1"],
                         bandwidths: [nil, nil]),
        ConnectionResult(from: "a-pod", to: "c-pod", fromHost: "a", toHost: "c", addresses: ["192.168.2.1", "192.168.66.1"],
                         bandwidths: [13.1e9, nil]),
    ]

    @Test func ratesReadLikeIperf3() {
        #expect(ConnectionReport.rate(8.8e9) == "8.80Gbits/sec")
        #expect(ConnectionReport.rate(13.1e9) == "13.1Gbits/sec")
        #expect(ConnectionReport.rate(941e6) == "941Mbits/sec")
    }

    @Test func theTableIsUpstreams() {
        let table = ConnectionReport.table(network: "multinic-sample", results: results)
        #expect(table == """
            ###########################################
            ## Connection Check: multinic-sample
            ###########################################
            FROM  TO    CONNECTED/TOTAL IPs                        BANDWIDTHs
            a-pod b-pod 2/2             [192.168.1.1 192.168.65.1] [ 8.80Gbits/sec 7.81Gbits/sec]
            b-pod a-pod 0/2             [192.168.0.1 192.168.64.1] []
            a-pod c-pod 1/2             [192.168.2.1 192.168.66.1] [ 13.1Gbits/sec -]
            ###########################################
            """)
        #expect(ConnectionReport.summary(results)
            == "## Summary: 1/3 pairs fully connected, 3/6 NIC paths; bandwidth min 7.81Gbits/sec, median 8.80Gbits/sec, max 13.1Gbits/sec")
    }

    @Test func heatmapsShowEveryNICPanelAndFailedPaths() throws {
        let svg = Heatmap.svg(results, network: "n")
        #expect(svg.contains("NIC 0 (net1-0)") && svg.contains("NIC 1 (net1-1)") && svg.contains("✗") && svg.contains("8.80G"))
        let png = [UInt8](Heatmap.png(results))
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // Each chunk's CRC matches its type and data.
        var offset = 8
        var types: [String] = []
        while offset + 8 <= png.count {
            let length = png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let body = Array(png[(offset + 4)..<(offset + 8 + length)])
            let crc = png[(offset + 8 + length)..<(offset + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(Self.crc32(body) == crc)
            types.append(String(decoding: body.prefix(4), as: UTF8.self))
            offset += 12 + length
        }
        #expect(types == ["IHDR", "IDAT", "IEND"])
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var table: [UInt32] = (0..<256).map { value in
            (0..<8).reduce(UInt32(value)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        table = table.map { $0 }
        return ~bytes.reduce(UInt32.max) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }
}
