import Foundation
import MultiNICController

/// A host × host bandwidth picture, one panel per NIC: rows are the sending host, columns the receiving one, the
/// colour runs from red (slow) through yellow to green (the fastest path measured); a failed path is dark grey with
/// a cross. SVG carries the numbers as text; PNG is the same grid without text.
public enum Heatmap {
    /// Cells of one NIC's panel: [from host][to host] → bits/s (nil: failed, missing: same host or no pods).
    static func panels(_ results: [ConnectionResult]) -> (hosts: [String], panels: [[String: [String: Double?]]]) {
        let hosts = Array(Set(results.flatMap { [$0.fromHost, $0.toHost] })).sorted()
        let nics = results.map(\.bandwidths.count).max() ?? 0
        var panels = Array(repeating: [String: [String: Double?]](), count: nics)
        for result in results {
            for (nic, value) in result.bandwidths.enumerated() {
                // Several pods per host: keep the slowest path of the host pair.
                let previous = panels[nic][result.fromHost]?[result.toHost]
                let merged: Double? = switch (previous, value) {
                case (nil, _): value
                case (.some(nil), _), (_, nil): nil
                case (.some(.some(let a)), .some(let b)): min(a, b)
                }
                panels[nic][result.fromHost, default: [:]][result.toHost] = .some(merged)
            }
        }
        return (hosts, panels)
    }

    /// Red → yellow → green for 0 … 1.
    static func colour(_ fraction: Double) -> (UInt8, UInt8, UInt8) {
        let value = max(0, min(1, fraction))
        return value < 0.5 ? (220, UInt8(60 + 340 * value), 60) : (UInt8(220 - 340 * (value - 0.5)), 200, 60)
    }

    public static func write(_ results: [ConnectionResult], network: String, to path: String) throws(LabError) {
        let data: Data
        if path.hasSuffix(".svg") {
            data = Data(svg(results, network: network).utf8)
        } else if path.hasSuffix(".png") {
            data = png(results)
        } else {
            throw LabError("--heatmap: \(path) must end in .svg or .png")
        }
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw LabError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static let cell = 64

    public static func svg(_ results: [ConnectionResult], network: String) -> String {
        let (hosts, panels) = panels(results)
        let best = results.flatMap { $0.bandwidths.compactMap { $0 } }.max() ?? 1
        let label = 150
        let panelWidth = label + cell * hosts.count + 30
        let height = 70 + label + cell * hosts.count
        var body = [#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(panelWidth * max(1, panels.count))" height="\#(height)" font-family="sans-serif" font-size="11">"#,
                    #"<text x="10" y="20" font-size="15">Bandwidth: \#(network) (rows send, columns receive; green = fastest \#(ConnectionReport.rate(best)))</text>"#]
        for (nic, panel) in panels.enumerated() {
            let left = nic * panelWidth
            body.append(#"<text x="\#(left + 10)" y="45" font-size="13">NIC \#(nic) (net1-\#(nic))</text>"#)
            for (column, host) in hosts.enumerated() {
                body.append(#"<text transform="translate(\#(left + label + column * cell + cell / 2),\#(60 + label - 5)) rotate(-60)">\#(host)</text>"#)
            }
            for (row, from) in hosts.enumerated() {
                let y = 60 + label + row * cell
                body.append(#"<text x="\#(left + 5)" y="\#(y + cell / 2 + 4)">\#(from)</text>"#)
                for (column, to) in hosts.enumerated() {
                    let x = left + label + column * cell
                    guard let value = panel[from]?[to] else {
                        body.append(#"<rect x="\#(x)" y="\#(y)" width="\#(cell - 2)" height="\#(cell - 2)" fill="rgb(238,238,238)"/>"#)
                        continue
                    }
                    if let value {
                        let (r, g, b) = colour(value / best)
                        body.append(#"<rect x="\#(x)" y="\#(y)" width="\#(cell - 2)" height="\#(cell - 2)" fill="rgb(\#(r),\#(g),\#(b))"/>"#)
                        body.append(#"<text x="\#(x + 4)" y="\#(y + cell / 2 + 4)">\#(ConnectionReport.rate(value).replacingOccurrences(of: "bits/sec", with: ""))</text>"#)
                    } else {
                        body.append(#"<rect x="\#(x)" y="\#(y)" width="\#(cell - 2)" height="\#(cell - 2)" fill="rgb(68,68,68)"/>"#)
                        body.append(#"<text x="\#(x + cell / 2 - 5)" y="\#(y + cell / 2 + 5)" fill="white" font-size="16">✗</text>"#)
                    }
                }
            }
        }
        return (body + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    /// The panels as an RGB PNG (stored deflate blocks: no compression library needed).
    public static func png(_ results: [ConnectionResult]) -> Data {
        let (hosts, panels) = panels(results)
        let best = results.flatMap { $0.bandwidths.compactMap { $0 } }.max() ?? 1
        let size = 48
        let gap = size
        let width = max(1, panels.count * (hosts.count * size + gap))
        let height = max(1, hosts.count * size)
        var pixels = [UInt8](repeating: 255, count: width * height * 3)
        for (nic, panel) in panels.enumerated() {
            for (row, from) in hosts.enumerated() {
                for (column, to) in hosts.enumerated() {
                    let rgb: (UInt8, UInt8, UInt8)
                    switch panel[from]?[to] {
                    case nil: rgb = (238, 238, 238)
                    case .some(nil): rgb = (68, 68, 68)
                    case .some(.some(let value)): rgb = colour(value / best)
                    }
                    for dy in 0..<(size - 2) {
                        for dx in 0..<(size - 2) {
                            let x = nic * (hosts.count * size + gap) + column * size + dx
                            let offset = ((row * size + dy) * width + x) * 3
                            (pixels[offset], pixels[offset + 1], pixels[offset + 2]) = rgb
                        }
                    }
                }
            }
        }
        return PNGEncoder.encode(width: width, height: height, rgb: pixels)
    }
}

/// A minimal PNG writer: 8-bit RGB, filter 0, zlib with stored blocks.
enum PNGEncoder {
    static func encode(width: Int, height: Int, rgb: [UInt8]) -> Data {
        var raw: [UInt8] = []
        raw.reserveCapacity((width * 3 + 1) * height)
        for row in 0..<height {
            raw.append(0)
            raw += rgb[(row * width * 3)..<((row + 1) * width * 3)]
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var position = 0
        repeat {
            let length = min(65535, raw.count - position)
            let final: UInt8 = position + length >= raw.count ? 1 : 0
            zlib += [final, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            zlib += raw[position..<(position + length)]
            position += length
        } while position < raw.count
        zlib += bigEndian(adler32(raw))
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", header) + chunk("IDAT", zlib) + chunk("IEND", [])
        return Data(png)
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return (b << 16) | a
    }
}
