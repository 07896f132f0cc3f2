import Foundation
import Testing

private enum ContentTypeSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/style.css", "body { color: black; }\n")
        try scratch.write("root/app.js", "console.log('hi');\n")
        try scratch.write("root/module.mjs", "export const answer = 42;\n")
        try scratch.write("root/diagram.svg",
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"><rect width=\"1\" height=\"1\"/></svg>\n")
        // The WebAssembly magic and version, then an empty module.
        try scratch.write("root/module.wasm", bytes: [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00])
        try scratch.write("root/page.html", "<!DOCTYPE html><title>t</title>\n")
        try scratch.write("root/data.json", "{\"a\": 1}\n")
        try scratch.write("root/notes.txt", "ascii notes\n")
        try scratch.write("root/UPPER.CSS", "p { margin: 0; }\n")
        // Without extensions: libmagic decides.
        let png = Array(try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/public/logo.png")))
        try scratch.write("root/logo", bytes: png)
        try scratch.write("root/README", "Plain ASCII text without an extension.\nSecond line.\n")
        try scratch.write("root/utf8-notes", "Grüße aus Köln, naïve café — ünïcödé text.\n")
        try scratch.write("root/latin1-notes", bytes: Array("Gr".utf8) + [0xFC, 0xDF] + Array(" aus K".utf8) + [0xF6]
                          + Array("ln, na".utf8) + [0xEF] + Array("ve caf".utf8) + [0xE9] + Array(" text.\n".utf8))
        try scratch.write("root/noise", bytes: fixedNoise(count: 4096))
        try scratch.write("root/script-no-ext", "#!/bin/sh\necho hello\n")
    }
}

/// Bytes without structure, the same on every run: /dev/urandom once began with "MZ",
/// which libmagic rightly calls a DOS executable (1 run in 65,536).
private func fixedNoise(count: Int) -> [UInt8] {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 // xorshift64 from a fixed seed
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

/// Content-Type by extension first (pinned web types included), libmagic for files
/// without a known extension, charset on text, octet-stream last.
@Suite(.fixture("types", site: ContentTypeSite.self))
struct ContentTypeTests {
    @Test(arguments: [
        ("/style.css", "text/css; charset=utf-8"),
        ("/UPPER.CSS", "text/css; charset=utf-8"),
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/module.mjs", "text/javascript; charset=utf-8"),
        ("/diagram.svg", "image/svg+xml; charset=utf-8"),
        ("/module.wasm", "application/wasm"),
        ("/page.html", "text/html; charset=utf-8"),
        ("/data.json", "application/json; charset=utf-8"),
        ("/notes.txt", "text/plain; charset=utf-8"),
        ("/logo", "image/png"),
        ("/README", "text/plain; charset=utf-8"),
        ("/utf8-notes", "text/plain; charset=utf-8"),
        ("/latin1-notes", "text/plain; charset=iso-8859-1"),
        ("/noise", "application/octet-stream"),
    ])
    func contentType(path: String, expected: String) throws {
        let get = try request(Fixture.server.port, path)
        #expect(get.status == 200, "\(path)")
        #expect(get.field("Content-Type") == expected, "\(path)")
        // HEAD names the same type (the per-worker cache must not change the answer).
        let head = try request(Fixture.server.port, path, method: "HEAD")
        #expect(head.field("Content-Type") == expected, "\(path) HEAD")
    }

    /// A file without extension that libmagic calls a shell script is text with a
    /// charset, whatever exact type libmagic names.
    @Test func sniffedTextCarriesACharset() throws {
        let type = try #require(try request(Fixture.server.port, "/script-no-ext").field("Content-Type"))
        #expect(type.hasSuffix("; charset=utf-8"), "\(type)")
    }

    /// curl reports the type it received.
    @Test func curlSeesTheType() throws {
        let result = try run("curl", ["-sS", "-o", "/dev/null", "-w", "%{content_type}", Fixture.server.base + "/module.mjs"])
        #expect(result.text == "text/javascript; charset=utf-8")
    }
}
