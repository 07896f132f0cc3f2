import Foundation
import Testing

private enum PrecompressedSite: FixtureSite {
    static let script = String(repeating: "console.log('served by ferry');\n", count: 40)
    static let style = String(repeating: "body { color: #333; }\n", count: 40)
    static let mtime = 1_700_000_000

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/app.js", script)
        try shell("cd \"$1\" && gzip -k -n -9 app.js && zstd -q -k app.js", scratch.root)
        try scratch.write("root/app.js.br", bytes: brotliStored(Array(script.utf8)))
        // Only a gzip sidecar: a client asking for br first falls through to it.
        try scratch.write("root/style.css", style)
        try shell("cd \"$1\" && gzip -k -n style.css", scratch.root)
        // A sidecar older than its file: the file changed after it was compressed.
        try scratch.write("root/stale.js", "the new version\n")
        try scratch.write("root/stale.js.gz", bytes: [0x1f, 0x8b, 0x08, 0x00])
        try scratch.touch("root/stale.js.gz", mtime: mtime)
        // A sidecar that is a symlink out of the root is never followed.
        try scratch.write("root/escape.js", "inside\n")
        try scratch.write("outside.gz", "outside the root\n")
        try scratch.symlink("root/escape.js.gz", to: "../outside.gz")
        try scratch.write("root/plain.txt", "no sidecar here\n")
        for name in ["app.js", "app.js.gz", "app.js.zst", "app.js.br", "style.css", "style.css.gz"] {
            try scratch.touch("root/" + name, mtime: mtime)
        }
    }

    /// A brotli stream holding `bytes` in one uncompressed meta-block (no brotli tool
    /// needed; curl's decoder reads it like any other): WBITS 16, MNIBBLES 4,
    /// MLEN-1, ISUNCOMPRESSED, padding, the bytes, then an empty last meta-block.
    static func brotliStored(_ bytes: [UInt8]) -> [UInt8] {
        precondition(!bytes.isEmpty && bytes.count <= 65536)
        let header = UInt32(bytes.count - 1) << 4 | 1 << 20
        return [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16 & 0xFF)] + bytes + [0x03]
    }
}

/// Sidecars (.br, .zst, .gz) sent in place of a file as Accept-Encoding allows, with
/// curl decoding them and raw requests checking every field.
@Suite(.fixture("precompressed", site: PrecompressedSite.self))
struct PrecompressedTests {
    var port: Int { Fixture.server.port }
    var scratch: Scratch { Fixture.scratch }

    func get(_ path: String, _ headers: [String], method: String = "GET") throws -> HTTPResponseText {
        try request(port, path, method: method, headers: headers)
    }

    /// The response to `field` sends the sidecar for `coding` (nil: the file itself).
    func expectCoding(_ field: String?, _ coding: String?, path: String = "/app.js",
                      type: String = "text/javascript") throws {
        let response = try get(path, field.map { ["Accept-Encoding: \($0)"] } ?? [])
        let suffix = ["br": ".br", "zstd": ".zst", "gzip": ".gz"]
        let file = "root" + path + (coding.map { suffix[$0]! } ?? "")
        let label = field ?? "no Accept-Encoding"
        #expect(response.status == 200, "\(label)")
        #expect(response.field("Content-Encoding") == coding, "\(label)")
        #expect(response.field("Content-Type")?.hasPrefix(type) == true, "\(label)")
        #expect(response.field("Vary") == "Accept-Encoding", "\(label)")
        #expect(response.body == scratch.read(file), "\(label)")
        #expect(response.field("Content-Length") == String(scratch.read(file).count), "\(label)")
    }

    @Test func negotiation() throws {
        try expectCoding(nil, nil)
        try expectCoding("gzip", "gzip")
        try expectCoding("zstd", "zstd")
        try expectCoding("br", "br")
        // Equal weights: br, then zstd, then gzip.
        try expectCoding("gzip, br", "br")
        try expectCoding("gzip, zstd", "zstd")
        try expectCoding("gzip, deflate, br, zstd", "br")
        try expectCoding("*", "br")
        try expectCoding("BR", "br")
        // Weights decide before the server's order.
        try expectCoding("br;q=0.5, gzip", "gzip")
        try expectCoding("br;q=0.5, gzip;q=0.8, zstd;q=0.7", "gzip")
        try expectCoding("br;q=0, *", "zstd")
        try expectCoding("*;q=0.1, gzip;q=0.2", "gzip")
        try expectCoding("gzip ; q=1.000", "gzip")
        // q=0 refuses; identity weighed higher wins; unknown codings do not count.
        try expectCoding("gzip;q=0", nil)
        try expectCoding("identity", nil)
        try expectCoding("identity;q=1, br;q=0.5", nil)
        try expectCoding("compress, deflate", nil)
        try expectCoding("", nil)
        // A malformed weight drops that element only.
        try expectCoding("br;q=2, gzip", "gzip")
        try expectCoding("br;q=0.1234, zstd", "zstd")
    }

    /// static-web-server#362: a coding without its sidecar falls through to the next.
    @Test func missingSidecarFallsThrough() throws {
        try expectCoding("br, zstd, gzip", "gzip", path: "/style.css", type: "text/css")
        try expectCoding("x-gzip", "gzip", path: "/style.css", type: "text/css")
        try expectCoding("br", nil, path: "/style.css", type: "text/css")
    }

    @Test func curlDecodesEveryCoding() throws {
        for coding in ["br", "zstd", "gzip"] {
            let url = "http://127.0.0.1:\(port)/app.js"
            let result = try run("curl", ["-sS", "--compressed", "-H", "Accept-Encoding: \(coding)", "-D", "-", url])
            #expect(result.status == 0, "\(coding): \(result.stderr)")
            #expect(result.text.lowercased().contains("content-encoding: \(coding)\r\n"), "\(coding)")
            #expect(result.text.hasSuffix("\r\n\r\n" + PrecompressedSite.script), "\(coding)")
        }
        // curl's own Accept-Encoding ("deflate, gzip, br, zstd") gets br.
        let result = try run("curl", ["-sS", "--compressed", "-D", "-", "http://127.0.0.1:\(port)/app.js"])
        #expect(result.text.lowercased().contains("content-encoding: br\r\n"))
        #expect(result.text.hasSuffix(PrecompressedSite.script))
    }

    @Test func validatorsAreTheSidecars() throws {
        let identity = try #require(try get("/app.js", []).field("ETag"))
        let gzip = try #require(try get("/app.js", ["Accept-Encoding: gzip"]).field("ETag"))
        let br = try #require(try get("/app.js", ["Accept-Encoding: br"]).field("ETag"))
        #expect(Set([identity, gzip, br]).count == 3)
        let notModified = try get("/app.js", ["Accept-Encoding: gzip", "If-None-Match: \(gzip)"])
        #expect(notModified.status == 304)
        #expect(notModified.field("ETag") == gzip)
        #expect(notModified.field("Vary") == "Accept-Encoding")
        // The gzip tag does not validate the identity representation.
        #expect(try get("/app.js", ["If-None-Match: \(gzip)"]).status == 200)
        // If-Range with the gzip tag applies to the gzip bytes only.
        let ranged = try get("/app.js", ["Accept-Encoding: gzip", "Range: bytes=0-3", "If-Range: \(gzip)"])
        #expect(ranged.status == 206)
        #expect(try get("/app.js", ["Range: bytes=0-3", "If-Range: \(gzip)"]).status == 200)
    }

    @Test func rangesCountEncodedBytes() throws {
        let gz = scratch.read("root/app.js.gz")
        let response = try get("/app.js", ["Accept-Encoding: gzip", "Range: bytes=0-9"])
        #expect(response.status == 206)
        #expect(response.field("Content-Encoding") == "gzip")
        #expect(response.field("Content-Range") == "bytes 0-9/\(gz.count)")
        #expect(response.body == Array(gz[0..<10]))
        let beyond = try get("/app.js", ["Accept-Encoding: gzip", "Range: bytes=\(gz.count)-"])
        #expect(beyond.status == 416)
        #expect(beyond.field("Content-Range") == "bytes */\(gz.count)")
        #expect(beyond.field("Vary") == "Accept-Encoding")
    }

    @Test func headHasTheSidecarsLength() throws {
        let response = try get("/app.js", ["Accept-Encoding: zstd"], method: "HEAD")
        #expect(response.status == 200)
        #expect(response.field("Content-Encoding") == "zstd")
        #expect(response.field("Content-Length") == String(scratch.read("root/app.js.zst").count))
        #expect(response.field("Vary") == "Accept-Encoding")
        #expect(response.body.isEmpty)
    }

    @Test func staleEscapingAndNamedSidecarsAreNotUsed() throws {
        let stale = try get("/stale.js", ["Accept-Encoding: gzip"])
        #expect(stale.field("Content-Encoding") == nil)
        #expect(stale.field("Vary") == nil)
        #expect(stale.bodyText == "the new version\n")
        let escape = try get("/escape.js", ["Accept-Encoding: gzip"])
        #expect(escape.field("Content-Encoding") == nil)
        #expect(escape.bodyText == "inside\n")
        // Asked for by its own name, a sidecar is a plain file.
        let named = try get("/app.js.gz", ["Accept-Encoding: gzip"])
        #expect(named.status == 200)
        #expect(named.field("Content-Encoding") == nil)
        #expect(named.field("Content-Type") == "application/gzip")
        #expect(named.body == scratch.read("root/app.js.gz"))
        let plain = try get("/plain.txt", ["Accept-Encoding: gzip, br"])
        #expect(plain.field("Vary") == nil)
        #expect(plain.field("Content-Encoding") == nil)
    }

    @Test func turnedOff() throws {
        let server = try FerryServer(["--no-precompressed", scratch.root])
        defer { server.stop() }
        let response = try request(server.port, "/app.js", headers: ["Accept-Encoding: gzip, br"])
        #expect(response.field("Content-Encoding") == nil)
        #expect(response.field("Vary") == nil)
        #expect(response.bodyText == PrecompressedSite.script)
    }
}
