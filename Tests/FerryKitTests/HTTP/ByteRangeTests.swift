import Testing
@testable import FerryKit

@Suite struct ByteRangeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var field: String?
        var length: Int64
        var expected: RangeDecision
        var testDescription: String { "\(field ?? "nil") on \(length) bytes" }

        init(_ field: String?, _ length: Int64, _ expected: RangeDecision) {
            self.field = field
            self.length = length
            self.expected = expected
        }
    }

    @Test(arguments: [
        // Single ranges.
        Case(nil, 100, .full),
        Case("bytes=0-0", 100, .partial(offset: 0, length: 1)),
        Case("bytes=0-99", 100, .partial(offset: 0, length: 100)),
        Case("bytes=10-19", 100, .partial(offset: 10, length: 10)),
        Case("bytes=5-", 100, .partial(offset: 5, length: 95)),
        Case("bytes=99-", 100, .partial(offset: 99, length: 1)),
        Case("bytes=0-", 100, .partial(offset: 0, length: 100)),
        Case("BYTES=1-2", 100, .partial(offset: 1, length: 2)),
        Case("Bytes=1-2", 100, .partial(offset: 1, length: 2)),
        // last-pos clamped to the end: never more bytes than exist.
        Case("bytes=50-1000", 100, .partial(offset: 50, length: 50)),
        Case("bytes=5-99999999999999999999", 100, .partial(offset: 5, length: 95)),
        // Suffixes: the last N bytes, never 0-N.
        Case("bytes=-1", 100, .partial(offset: 99, length: 1)),
        Case("bytes=-10", 100, .partial(offset: 90, length: 10)),
        Case("bytes=-100", 100, .partial(offset: 0, length: 100)),
        Case("bytes=-500", 100, .partial(offset: 0, length: 100)),
        Case("bytes=-99999999999999999999", 100, .partial(offset: 0, length: 100)),
        Case("bytes=-0", 100, .unsatisfiable),
        // first-pos at or past the end: 416, also for a resumed complete download.
        Case("bytes=100-", 100, .unsatisfiable),
        Case("bytes=100-200", 100, .unsatisfiable),
        Case("bytes=99999999999999999999-", 100, .unsatisfiable),
        // Empty files: nothing is satisfiable.
        Case("bytes=0-", 0, .unsatisfiable),
        Case("bytes=0-0", 0, .unsatisfiable),
        Case("bytes=-1", 0, .unsatisfiable),
        Case(nil, 0, .full),
        // Empty list elements are allowed; one range left is a plain 206.
        Case("bytes=0-1,", 100, .partial(offset: 0, length: 2)),
        Case("bytes=, ,5-6", 100, .partial(offset: 5, length: 2)),
        // Ignored: other units, invalid specs (one bad spec spoils the list).
        Case("bytes=0-1,x", 100, .full),
        Case("bytes=,", 100, .full),
        Case("bytes=9223372036854775807-0", 100, .full),
        Case("bytes=99999999999999999999-5", 100, .full),
        Case("items=0-1", 100, .full),
        Case("byte=0-1", 100, .full),
        Case("bytes=5-2", 100, .full),
        Case("bytes=-", 100, .full),
        Case("bytes=", 100, .full),
        Case("bytes", 100, .full),
        Case("", 100, .full),
        Case("bytes=abc", 100, .full),
        Case("bytes=1", 100, .full),
        Case("bytes=1-2-3", 100, .full),
        Case("bytes=--1", 100, .full),
        Case("bytes=+1-2", 100, .full),
        Case("bytes=0x1-2", 100, .full),
        Case("bytes=1 - 2", 100, .full),
        Case("bytes = 1-2", 100, .full),
        Case("bytes=1-2 3", 100, .full),
        // Whitespace around the one range-spec is tolerated.
        Case("bytes= 1-2 ", 100, .partial(offset: 1, length: 2)),
        // 64-bit lengths: files over 4 GiB.
        Case("bytes=4294967296-", 5_000_000_000, .partial(offset: 4_294_967_296, length: 705_032_704)),
        Case("bytes=-1", Int64.max, .partial(offset: Int64.max - 1, length: 1)),
        Case("bytes=0-", Int64.max, .partial(offset: 0, length: Int64.max)),
    ])
    func evaluates(_ test: Case) {
        #expect(ByteRange.evaluate(test.field, length: test.length) == test.expected)
    }

    /// Exhaustively on small files: a partial range never has a negative or empty length,
    /// and never reaches past the end.
    @Test func partialRangesStayInsideTheFile() {
        for length in Int64(0)...6 {
            for first in 0...8 {
                for last in 0...8 {
                    for field in ["bytes=\(first)-\(last)", "bytes=\(first)-", "bytes=-\(last)"] {
                        if case .partial(let offset, let count) = ByteRange.evaluate(field, length: length) {
                            #expect(offset >= 0 && count >= 1 && offset + count <= length, "\(field) on \(length)")
                        }
                    }
                }
            }
        }
    }

    static func spans(_ pairs: [(Int64, Int64)]) -> RangeDecision {
        .multiple(pairs.map { ByteSpan(offset: $0.0, length: $0.1 - $0.0 + 1) })
    }

    @Test(arguments: [
        Case("bytes=0-499,600-", 1000, spans([(0, 499), (600, 999)])),
        Case("bytes=0-1, 3-4", 100, spans([(0, 1), (3, 4)])),
        Case("bytes=0-9,20-29", 100, spans([(0, 9), (20, 29)])),
        // Sorted, whatever the order asked.
        Case("bytes=20-29,0-9", 100, spans([(0, 9), (20, 29)])),
        Case("bytes=-10,0-9", 100, spans([(0, 9), (90, 99)])),
        // Overlapping and adjacent ranges are joined; one left is a plain 206.
        Case("bytes=0-9,5-14", 100, .partial(offset: 0, length: 15)),
        Case("bytes=0-9,10-19", 100, .partial(offset: 0, length: 20)),
        Case("bytes=0-9,11-19", 100, spans([(0, 9), (11, 19)])),
        Case("bytes=0-9,2-3,40-49,45-", 100, spans([(0, 9), (40, 99)])),
        // Unsatisfiable specs are dropped; all unsatisfiable: 416.
        Case("bytes=0-9,500-600", 100, .partial(offset: 0, length: 10)),
        Case("bytes=0-9,500-600,20-29", 100, spans([(0, 9), (20, 29)])),
        Case("bytes=500-600,700-", 100, .unsatisfiable),
        // Adding up to more than the file: the whole file (CVE-2011-3192).
        Case("bytes=0-,0-", 100, .full),
        Case("bytes=0-60,40-99", 100, .full),
        Case("bytes=0-49,50-99", 100, .partial(offset: 0, length: 100)),
    ])
    func severalRanges(_ test: Case) {
        #expect(ByteRange.evaluate(test.field, length: test.length) == test.expected)
    }

    @Test func tooManyRangesGetTheWholeFile() {
        let list = (0..<10).map { "\($0 * 10)-\($0 * 10 + 1)" }.joined(separator: ",")
        #expect(ByteRange.evaluate("bytes=" + list, length: 1000, maxRanges: 10) != .full)
        #expect(ByteRange.evaluate("bytes=" + list, length: 1000, maxRanges: 9) == .full)
        let many = (0..<201).map { "\($0 * 3)-\($0 * 3)" }.joined(separator: ",")
        #expect(ByteRange.evaluate("bytes=" + many, length: 10000) == .full)
    }

    @Test func multipartSegments() {
        let spans = [ByteSpan(offset: 0, length: 10), ByteSpan(offset: 20, length: 10)]
        let segments = MultipartByteranges.segments(spans, length: 1000, contentType: "text/plain", boundary: "B")
        #expect(segments == [
            .bytes(Array("--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-9/1000\r\n\r\n".utf8)),
            .file(offset: 0, length: 10),
            .bytes(Array("\r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 20-29/1000\r\n\r\n".utf8)),
            .file(offset: 20, length: 10),
            .bytes(Array("\r\n--B--\r\n".utf8)),
        ])
        let boundary = MultipartByteranges.makeBoundary()
        #expect(boundary.count == 22 && boundary.hasPrefix("ferry-"))
        #expect(boundary != MultipartByteranges.makeBoundary())
    }
}
