import Testing
@testable import FerryKit

@Suite struct DigestSidecarTests {
    static let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    func parse(_ text: String, _ name: String = "file.iso") -> [UInt8]? {
        DigestSidecar.parse(Array(text.utf8), fileName: Array(name.utf8))
    }

    @Test func sha256sumLinesAreRead() {
        let digest = parse(Self.hex + "\n")
        #expect(digest?.count == 32)
        #expect(digest?.first == 0xe3 && digest?.last == 0x55)
        #expect(parse(Self.hex) == digest)
        #expect(parse(Self.hex + "  file.iso\n") == digest)
        #expect(parse(Self.hex + " *file.iso\n") == digest)
        #expect(parse(Self.hex + "  dist/file.iso\r\n") == digest)
        #expect(parse(Self.hex.uppercased() + "\n") == digest)
    }

    @Test func anythingElseIsRefused() {
        #expect(parse(String(Self.hex.dropLast()) + "\n") == nil)      // 63 digits
        #expect(parse(String(Self.hex.dropLast()) + "g\n") == nil)
        #expect(parse(Self.hex + "  other.iso\n") == nil)              // another file's line
        #expect(parse(Self.hex + "  xfile.iso\n") == nil)
        #expect(parse(Self.hex + "  file.iso\n" + Self.hex + "  b\n") == nil)  // two lines
        #expect(parse(Self.hex + " file.iso\n") == nil)                // one space: not sha256sum's
        #expect(parse("") == nil)
    }

    @Test func theFieldIsAStructuredByteSequence() {
        // RFC 9530's example: the SHA-256 of {"hello": "world"}.
        let digest = parse("5f8f04f6a3a892aaabbddb6cf273894493773960d4a325b105fee46eef4304f1")!
        #expect(DigestSidecar.fieldValue(digest).text == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
    }

    @Test func base64Padding() {
        #expect(Base64.encode([]) == [])
        #expect(String(decoding: Base64.encode(Array("f".utf8)), as: UTF8.self) == "Zg==")
        #expect(String(decoding: Base64.encode(Array("fo".utf8)), as: UTF8.self) == "Zm8=")
        #expect(String(decoding: Base64.encode(Array("foo".utf8)), as: UTF8.self) == "Zm9v")
        #expect(String(decoding: Base64.encode(Array("foob".utf8)), as: UTF8.self) == "Zm9vYg==")
    }
}
