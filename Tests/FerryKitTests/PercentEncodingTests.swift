import Testing
@testable import FerryKit

@Suite struct PercentEncodingTests {
    @Test func decodesOnce() {
        #expect(PercentEncoding.decode(Array("a%20b".utf8)) == Array("a b".utf8))
        #expect(PercentEncoding.decode(Array("%252e".utf8)) == Array("%2e".utf8))
        #expect(PercentEncoding.decode(Array("%ff%00".utf8)) == [0xFF, 0x00])
    }

    @Test func rejectsMalformedEscapes() {
        #expect(PercentEncoding.decode(Array("%G1".utf8)) == nil)
        #expect(PercentEncoding.decode(Array("abc%4".utf8)) == nil)
        #expect(PercentEncoding.decode(Array("%".utf8)) == nil)
    }

    @Test func encodesReservedAndNonASCIIBytes() {
        #expect(PercentEncoding.encodeSegment(Array("a b/c?#%".utf8)) == "a%20b%2Fc%3F%23%25")
        #expect(PercentEncoding.encodeSegment([0xC3, 0xA9]) == "%C3%A9")
        #expect(PercentEncoding.encodeSegment(Array("file-1.tar.gz".utf8)) == "file-1.tar.gz")
    }

    @Test func htmlEscapesMarkup() {
        #expect(HTMLEscape.escape("<a href=\"x\">&'</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
        #expect(HTMLEscape.escape([0x61, 0xFF]) == "a\u{FFFD}")
    }
}
