import Foundation
import Testing

private enum RangeSite: FixtureSite {
    /// Byte i is "0"..."9" by i % 10, with a newline every 100 bytes, so any slice
    /// names its offset.
    static let content: [UInt8] = (0..<1000).map { $0 % 100 == 99 ? 10 : UInt8(48 + $0 % 10) }

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/digits.txt", bytes: content)
        try scratch.write("root/empty.txt", bytes: [])
    }
}

/// Range requests against a 1000-byte file whose every byte is known: 206 with the
/// exact bytes and Content-Range, 416 with `bytes */LEN`, and 200 for what is ignored.
@Suite(.fixture("ranges", site: RangeSite.self))
struct RangeTests {
    static let length = RangeSite.content.count
    static let content = RangeSite.content

    var port: Int { Fixture.server.port }

    func get(_ range: String, path: String = "/digits.txt", method: String = "GET",
             extra: [String] = []) throws -> HTTPResponseText {
        try request(port, path, method: method, headers: ["Range: \(range)"] + extra)
    }

    func expectPartial(_ range: String, first: Int, last: Int) throws {
        let response = try get(range)
        #expect(response.status == 206, "\(range)")
        #expect(response.statusLine == "HTTP/1.0 206 Partial Content")
        #expect(response.field("Content-Range") == "bytes \(first)-\(last)/\(Self.length)", "\(range)")
        #expect(response.field("Content-Length") == String(last - first + 1), "\(range)")
        #expect(response.body == Array(Self.content[first...last]), "\(range)")
    }

    func expectFull(_ range: String) throws {
        let response = try get(range)
        #expect(response.status == 200, "\(range)")
        #expect(response.field("Content-Range") == nil, "\(range)")
        #expect(response.field("Content-Length") == String(Self.length), "\(range)")
        #expect(response.body == Self.content, "\(range)")
    }

    @Test func firstToLast() throws {
        try expectPartial("bytes=0-99", first: 0, last: 99)
        try expectPartial("bytes=250-250", first: 250, last: 250)
        try expectPartial("bytes=0-999", first: 0, last: 999)
    }

    @Test func openEnded() throws {
        try expectPartial("bytes=900-", first: 900, last: 999)
        try expectPartial("bytes=999-", first: 999, last: 999)
    }

    /// "-N" is the last N bytes, never 0-N (Hummingbird, vapor#2836).
    @Test func suffix() throws {
        try expectPartial("bytes=-100", first: 900, last: 999)
        try expectPartial("bytes=-1", first: 999, last: 999)
        // A suffix longer than the file is the whole file, still as a 206.
        try expectPartial("bytes=-5000", first: 0, last: 999)
    }

    /// The end is clamped to the file: never more bytes than exist (vapor#2566).
    @Test func endPastTheFileIsClamped() throws {
        try expectPartial("bytes=990-2000", first: 990, last: 999)
        try expectPartial("bytes=0-9223372036854775807", first: 0, last: 999)
    }

    @Test func unitAndSpacesAreTolerated() throws {
        try expectPartial("BYTES=10-19", first: 10, last: 19)
        try expectPartial("bytes= 10-19 ", first: 10, last: 19)
    }

    /// A first byte at or past the end is 416 with `Content-Range: bytes */LEN` (not
    /// 400, vapor#2991), which is what lets resumed complete downloads end cleanly.
    @Test(arguments: ["bytes=1000-", "bytes=1000-1005", "bytes=5000-6000", "bytes=99999999999999999999-"])
    func unsatisfiable(range: String) throws {
        let response = try get(range)
        #expect(response.status == 416)
        #expect(response.statusLine == "HTTP/1.0 416 Range Not Satisfiable")
        #expect(response.field("Content-Range") == "bytes */1000")
        #expect(response.field("Content-Type") == "text/html; charset=utf-8")
        #expect(response.field("Content-Length") == String(response.body.count))
        #expect(!response.body.isEmpty && !response.bodyText.contains("0123456789"))
    }

    @Test(arguments: ["bytes=0-", "bytes=-1"])
    func anyRangeOfAnEmptyFileIsUnsatisfiable(range: String) throws {
        let response = try get(range, path: "/empty.txt")
        #expect(response.status == 416)
        #expect(response.field("Content-Range") == "bytes */0")
    }

    /// Other units and malformed fields are ignored: the whole file with 200. A
    /// reversed pair must never give a negative length (vapor#2837).
    @Test(arguments: ["bytes=0-1,x", "items=0-1", "bytes=abc", "bytes=5-1",
                      "bytes=9223372036854775807-0", "bytes=--1", "bytes=1-2-3", "bytes=", "bytes 0-1", "bytes=-0x10"])
    func ignoredRanges(range: String) throws {
        try expectFull(range)
    }

    /// Two Range fields join into "bytes=0-1, bytes=5-6", which is malformed: ignored.
    @Test func twoRangeFieldsAreIgnored() throws {
        let response = try request(port, "/digits.txt", headers: ["Range: bytes=0-1", "Range: bytes=5-6"])
        #expect(response.status == 200)
        #expect(response.body == Self.content)
    }

    /// If-Range: the range applies only when the validator still matches (a strong
    /// ETag, or exactly the Last-Modified date); otherwise the whole file comes back.
    @Test func ifRange() throws {
        let plain = try request(port, "/digits.txt")
        let etag = try #require(plain.field("ETag"))
        let lastModified = try #require(plain.field("Last-Modified"))

        let matchingTag = try get("bytes=0-9", extra: ["If-Range: \(etag)"])
        #expect(matchingTag.status == 206)
        #expect(matchingTag.body == Array(Self.content[0...9]))

        let matchingDate = try get("bytes=0-9", extra: ["If-Range: \(lastModified)"])
        #expect(matchingDate.status == 206)

        for stale in ["\"not-the-tag\"", "W/\(etag)", "Mon, 01 Jan 2001 00:00:00 GMT", "yesterday"] {
            let response = try get("bytes=0-9", extra: ["If-Range: \(stale)"])
            #expect(response.status == 200, "If-Range: \(stale)")
            #expect(response.body == Self.content, "If-Range: \(stale)")
        }
    }

    @Test func headWithARangeHasThePartialHeadAndNoBody() throws {
        let response = try get("bytes=100-199", method: "HEAD")
        #expect(response.status == 206)
        #expect(response.field("Content-Range") == "bytes 100-199/1000")
        #expect(response.field("Content-Length") == "100")
        #expect(response.body.isEmpty)
    }

    /// curl's own range option against the same file.
    @Test func curlRange() throws {
        let result = try run("curl", ["-sS", "-f", "-r", "500-509", Fixture.server.base + "/digits.txt"])
        #expect(result.status == 0)
        #expect(Array(result.stdout) == Array(Self.content[500...509]))
    }
}
