import Foundation
import Testing

private enum ConditionalSite: FixtureSite {
    /// 2023-11-14 22:13:20 UTC, a Tuesday.
    static let mtime = 1_700_000_000
    static let imfDate = "Tue, 14 Nov 2023 22:13:20 GMT"
    static let rfc850Date = "Tuesday, 14-Nov-23 22:13:20 GMT"
    static let asctimeDate = "Tue Nov 14 22:13:20 2023"
    static let content = "a page that rarely changes\n"

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/page.txt", content)
        try scratch.touch("root/page.txt", mtime: mtime)
    }
}

/// If-None-Match and If-Modified-Since answered with 304, and everything that must
/// not be: a different tag, an older date, a garbled date.
@Suite(.fixture("conditional", site: ConditionalSite.self))
struct ConditionalTests {
    var port: Int { Fixture.server.port }

    func get(_ headers: [String], path: String = "/page.txt", method: String = "GET") throws -> HTTPResponseText {
        try request(port, path, method: method, headers: headers)
    }

    func currentTag(_ path: String = "/page.txt") throws -> String {
        try #require(try request(port, path).field("ETag"))
    }

    func expectNotModified(_ response: HTTPResponseText, etag: String, _ comment: String) {
        #expect(response.status == 304, "\(comment)")
        #expect(response.statusLine == "HTTP/1.0 304 Not Modified", "\(comment)")
        #expect(response.field("ETag") == etag, "\(comment)")
        #expect(response.field("Last-Modified") == ConditionalSite.imfDate, "\(comment)")
        #expect(response.body.isEmpty, "\(comment)")
        #expect(!response.rawText.contains(ConditionalSite.content), "\(comment)")
    }

    func expectFull(_ response: HTTPResponseText, _ comment: String) {
        #expect(response.status == 200, "\(comment)")
        #expect(response.bodyText == ConditionalSite.content, "\(comment)")
    }

    @Test func validatorsDescribeTheFile() throws {
        let response = try request(port, "/page.txt")
        #expect(response.field("Last-Modified") == ConditionalSite.imfDate)
        let etag = try #require(response.field("ETag"))
        // A strong tag: quoted, not W/.
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count > 2)
    }

    @Test func ifNoneMatch() throws {
        let etag = try currentTag()
        expectNotModified(try get(["If-None-Match: \(etag)"]), etag: etag, "exact tag")
        expectNotModified(try get(["If-None-Match: \"other\", \(etag)"]), etag: etag, "tag in a list")
        expectNotModified(try get(["If-None-Match: \"other\"", "If-None-Match: \(etag)"]), etag: etag, "two fields")
        // If-None-Match uses the weak comparison.
        expectNotModified(try get(["If-None-Match: W/\(etag)"]), etag: etag, "weak form")
        expectNotModified(try get(["If-None-Match: *"]), etag: etag, "star")
        expectFull(try get(["If-None-Match: \"other\""]), "another tag")
        expectFull(try get(["If-None-Match: garbage"]), "malformed list")
    }

    /// All three HTTP date formats; the file counts as unmodified when its mtime is
    /// not after the date.
    @Test(arguments: [ConditionalSite.imfDate, ConditionalSite.rfc850Date, ConditionalSite.asctimeDate,
                      "Wed, 15 Nov 2023 00:00:00 GMT", "Sat, 01 Jan 2050 00:00:00 GMT"])
    func ifModifiedSinceAtOrAfterTheMtime(date: String) throws {
        let etag = try currentTag()
        expectNotModified(try get(["If-Modified-Since: \(date)"]), etag: etag, date)
    }

    @Test(arguments: ["Tue, 14 Nov 2023 22:13:19 GMT", "Tuesday, 14-Nov-23 22:13:19 GMT", "Tue Nov 14 22:13:19 2023",
                      "Thu, 01 Jan 1970 00:00:00 GMT", "not a date", "Tue, 14 Nov 2023 22:13:20 PST"])
    func ifModifiedSinceBeforeTheMtimeOrInvalid(date: String) throws {
        expectFull(try get(["If-Modified-Since: \(date)"]), date)
    }

    /// When If-None-Match is present it decides; If-Modified-Since is not consulted.
    @Test func ifNoneMatchTakesPrecedence() throws {
        expectFull(try get(["If-None-Match: \"other\"", "If-Modified-Since: \(ConditionalSite.imfDate)"]),
                   "mismatching tag, matching date")
        let etag = try currentTag()
        expectNotModified(try get(["If-None-Match: \(etag)", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"]),
                          etag: etag, "matching tag, old date")
    }

    @Test func headGetsTheSame304() throws {
        let etag = try currentTag()
        expectNotModified(try get(["If-None-Match: \(etag)"], method: "HEAD"), etag: etag, "HEAD")
    }

    /// A 304 wins over a Range: the client already has the representation.
    @Test func notModifiedBeatsRange() throws {
        let etag = try currentTag()
        expectNotModified(try get(["If-None-Match: \(etag)", "Range: bytes=0-3"]), etag: etag, "with Range")
    }

    /// Changing the file changes its tag: the old one no longer yields 304.
    @Test func aChangedFileGetsANewTag() throws {
        let scratch = Fixture.scratch
        try scratch.write("root/changing.txt", "first version\n")
        try scratch.touch("root/changing.txt", mtime: 1_600_000_000)
        let oldTag = try currentTag("/changing.txt")
        #expect(try get(["If-None-Match: \(oldTag)"], path: "/changing.txt").status == 304)

        try scratch.write("root/changing.txt", "second version\n")
        let response = try get(["If-None-Match: \(oldTag)"], path: "/changing.txt")
        #expect(response.status == 200)
        #expect(response.bodyText == "second version\n")
        #expect(response.field("ETag") != oldTag)
    }

    /// curl's -z sends If-Modified-Since in its own date format; a 304 leaves the
    /// output empty.
    @Test func curlTimeCondition() throws {
        let url = Fixture.server.base + "/page.txt"
        let unmodified = try run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-z", ConditionalSite.imfDate, url])
        #expect(unmodified.text == "304")
        let modified = try run("curl", ["-sS", "-z", "Mon, 13 Nov 2023 00:00:00 GMT", url])
        #expect(modified.text == ConditionalSite.content)
    }
}
