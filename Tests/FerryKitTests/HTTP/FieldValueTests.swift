import Testing
@testable import FerryKit

@Suite struct FieldValueTests {
    /// `FieldValue(text)` with a String: given a literal, `FieldValue("...")` is the literal form, which traps.
    func checked(_ text: String) -> FieldValue? { FieldValue(text) }
    func name(_ text: String) -> FieldName? { FieldName(text) }

    /// Every byte that could end a field line early, or is a control character.
    static let forbidden: [UInt8] = Array(0x00...0x08) + Array(0x0A...0x1F) + [0x7F]

    @Test func checkedValuesRefuseControlCharacters() {
        for byte in Self.forbidden {
            let text = "a" + String(decoding: [byte], as: UTF8.self) + "b"
            #expect(checked(text) == nil, "byte \(byte)")
        }
        #expect(checked("no-cache\r\nSet-Cookie: a=1") == nil)
        #expect(checked("a\nb") == nil)
        #expect(checked("a\u{0}b") == nil)
    }

    @Test func checkedValuesRefuseWhitespaceAtTheEdges() {
        #expect(checked(" a") == nil)
        #expect(checked("a ") == nil)
        #expect(checked("a\t") == nil)
        #expect(checked("a b\tc")?.text == "a b\tc")
        #expect(checked("")?.text == "")
        #expect(checked("caf\u{E9}")?.text == "caf\u{E9}", "obs-text is allowed")
    }

    @Test func uriReferencesPercentEncodeWhatAURICannotHold() {
        #expect(FieldValue.uriReference("/dir\r\nSet-Cookie: a=1/").text == "/dir%0D%0ASet-Cookie:%20a=1/")
        #expect(FieldValue.uriReference("/a\u{0}b\u{7F}").text == "/a%00b%7F")
        #expect(FieldValue.uriReference("/caf\u{E9}").text == "/caf%C3%A9")
        // Already a URI: its escapes are kept, not encoded again.
        #expect(FieldValue.uriReference("/a%20b/?x=%0d%0a").text == "/a%20b/?x=%0d%0a")
        for byte in UInt8(0)...UInt8(0x7F) {
            let value = FieldValue.uriReference(String(decoding: [byte], as: UTF8.self))
            #expect(value.text.utf8.allSatisfy { (0x21...0x7E).contains($0) }, "byte \(byte)")
        }
    }

    @Test func mediaTypesFallBackToOctetStream() {
        #expect(FieldValue.mediaType("text/html").text == "text/html")
        #expect(FieldValue.mediaType("text/plain; charset=utf-8").text == "text/plain; charset=utf-8")
        #expect(FieldValue.mediaType("multipart/byteranges; boundary=ferry-0123").text
            == "multipart/byteranges; boundary=ferry-0123")
        #expect(FieldValue.mediaType("text/plain;charset=\"a b\"").text == "text/plain;charset=\"a b\"")
        #expect(FieldValue.mediaType("image/svg+xml").text == "image/svg+xml")
        for bad in ["text/plain\r\nSet-Cookie: a=1", "text/plain; charset=utf-8\n", "text", "/plain", "text/",
                    "text/plain; charset", "text/plain; =utf-8", "text /plain", "text/plain; charset=\"open",
                    "text/plain; charset=\"a\r\nb\"", "", "text/plain ", "te\u{0}xt/plain", "data; charset=binary"] {
            #expect(FieldValue.mediaType(bad) == .octetStream, "\(bad.debugDescription)")
        }
    }

    @Test func interpolationTakesNumbersAndValues() {
        let size: Int64 = 1000
        let range: FieldValue = "bytes 0-\(size - 1)/\(size)"
        #expect(range.text == "bytes 0-999/1000")
        let hex: FieldValue = "\"\(UInt64(255), radix: 16)\""
        #expect(hex.text == "\"ff\"")
        let type = FieldValue.mediaType("text/plain")
        let joined: FieldValue = "\(type); charset=utf-8"
        #expect(joined.text == "text/plain; charset=utf-8")
    }

    @Test func fieldNamesAreTokens() {
        #expect(name("Cache-Control")?.text == "Cache-Control")
        for bad in ["", "Set Cookie", "A:B", "X\r\nY", "X\n", "Caf\u{E9}", "(x)"] {
            #expect(name(bad) == nil, "\(bad.debugDescription)")
        }
        #expect(name("ETag")!.matches("etag") && !name("ETag")!.matches("etags"))
    }

    /// A head built from hostile-looking inputs through the public doors has exactly its lines.
    @Test func aHeadFromHostileInputsHasNoInjectedLine() {
        var head = ResponseHead(status: .movedPermanently)
        head.add("Location", .uriReference("/x\r\nSet-Cookie: a=1/"))
        head.add("Content-Type", .mediaType("text/html\r\nSet-Cookie: b=2"))
        var bytes: [UInt8] = []
        head.serialize(version: .http1_1, contentLength: 0, connection: .close, date: "d", server: "s", into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text == "HTTP/1.1 301 Moved Permanently\r\nDate: d\r\nServer: s\r\n"
            + "Location: /x%0D%0ASet-Cookie:%20a=1/\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: 0\r\nConnection: close\r\n\r\n")
    }
}
