import Foundation
import Testing

private enum DirectorySite: FixtureSite {
    static let mtime = 1_700_000_000  // shown as 2023-11-14 22:13
    /// Entry names that need escaping in HTML, in a URL, or both.
    static let awkwardNames = ["a&b.txt", "<script>.txt", "quote\".txt", "space name.txt", "hash#.txt",
                               "query?.txt", "percent%.txt", "javascript:alert(1)"]

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/site/index.html", "<!DOCTYPE html><title>site index</title>\n")
        try scratch.write("root/site/other.txt", "other\n")
        try scratch.write("root/docs/b.txt", "bb\n")
        try scratch.write("root/docs/a.txt", "a\n")
        try scratch.write("root/docs/C.txt", "ccc\n")
        try scratch.write("root/docs/ten.bin", bytes: Array(repeating: 7, count: 10))
        try scratch.write("root/docs/sub/inner.txt", "inner\n")
        try scratch.write("root/a b/c.txt", "c\n")
        try scratch.write("root/docs/.hidden", "hidden\n")
        try scratch.write("root/docs/.git/config", "[core]\n")
        for name in awkwardNames { try scratch.write("root/docs/\(name)", "x\n") }
        try scratch.touch("root/docs/a.txt", mtime: mtime)
        // A directory whose name looks like a host: "//example.com/" must never come back.
        try scratch.write("root/example.com/index.html", "not an open redirect\n")
        // index.html that is a directory is not an index page.
        try scratch.write("root/odd/index.html/x.txt", "x\n")
    }
}

/// Directories: the 301 to the slash form, index.html, the listing, --no-listing.
@Suite(.fixture("directories", site: DirectorySite.self))
struct DirectoryTests {
    var port: Int { Fixture.server.port }

    func expectRedirect(_ target: String, to location: String) throws {
        let response = try request(port, target)
        #expect(response.status == 301, "\(target)")
        #expect(response.statusLine == "HTTP/1.0 301 Moved Permanently", "\(target)")
        #expect(response.field("Location") == location, "\(target)")
        #expect(response.field("Content-Length") == String(response.body.count), "\(target)")
    }

    @Test func noTrailingSlashRedirectsToTheSlashForm() throws {
        try expectRedirect("/docs", to: "/docs/")
        try expectRedirect("/docs/sub", to: "/docs/sub/")
        try expectRedirect("/docs?sort=name", to: "/docs/?sort=name")
        try expectRedirect("/docs/./sub", to: "/docs/sub/")
        try expectRedirect("/site", to: "/site/")
        // The Location is percent-encoded again, from the decoded name.
        try expectRedirect("/a%20b", to: "/a%20b/")
        try expectRedirect("/%61%20b", to: "/a%20b/")
    }

    /// The Location is built from the normalized path, so empty segments never turn
    /// it into "//host", a protocol-relative URL to another site (cpython#87389).
    @Test(arguments: ["//example.com", "///example.com", "//example.com/.", "/.//example.com",
                      "http://127.0.0.1//example.com", "//%65xample.com"])
    func redirectNeverBecomesProtocolRelative(target: String) throws {
        let response = try request(port, target)
        let location = response.field("Location") ?? ""
        #expect(!location.hasPrefix("//"), "\(target) → \(location)")
        #expect(response.status == 301 || response.status == 200, "\(target)")
        if response.status == 301 { #expect(location == "/example.com/", "\(target)") }
    }

    @Test func curlFollowsTheRedirect() throws {
        let result = try run("curl", ["-sS", "-L", Fixture.server.base + "/example.com"])
        #expect(result.text == "not an open redirect\n")
    }

    @Test func indexHtmlIsServedForTheSlashForm() throws {
        let response = try request(port, "/site/")
        #expect(response.status == 200)
        #expect(response.field("Content-Type") == "text/html; charset=utf-8")
        #expect(response.bodyText == "<!DOCTYPE html><title>site index</title>\n")
        #expect(response.field("ETag") != nil)
    }

    @Test func listing() throws {
        let response = try request(port, "/docs/")
        #expect(response.status == 200)
        #expect(response.field("Content-Type") == "text/html; charset=utf-8")
        #expect(response.field("Content-Length") == String(response.body.count))
        let page = response.bodyText
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(page.contains("<title>Index of /docs/</title>"))
        // Parent link first, then directories, then files sorted by name bytes ("C" < "a").
        let order = ["href=\"../\"", "href=\"./sub/\"", "href=\"./C.txt\"", "href=\"./a.txt\"", "href=\"./b.txt\"",
                     "href=\"./ten.bin\""]
        let positions = order.map { page.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(order) in \(page)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        // Sizes in bytes for files, "-" for directories; mtimes in UTC.
        #expect(page.contains(">ten.bin</a></td><td>10</td>"))
        #expect(page.contains(">sub/</a></td><td>-</td>"))
        #expect(page.contains(">a.txt</a></td><td>2</td><td>2023-11-14 22:13</td>"))
        // Dot-files are not listed.
        #expect(!page.contains(".hidden"))
        #expect(!page.contains(".git"))
    }

    /// Names are HTML-escaped where shown and percent-encoded in links; no raw markup
    /// from a file name ever reaches the page, and "javascript:" cannot be a scheme.
    @Test func listingEscapesNames() throws {
        let page = try request(port, "/docs/").bodyText
        #expect(!page.contains("<script>"))
        #expect(page.contains("&lt;script&gt;.txt"))
        #expect(page.contains(">a&amp;b.txt<"))
        #expect(page.contains("href=\"./a&amp;b.txt\""))
        #expect(page.contains("href=\"./space%20name.txt\""))
        #expect(page.contains("href=\"./hash%23.txt\""))
        #expect(page.contains("href=\"./query%3F.txt\""))
        #expect(page.contains("href=\"./percent%25.txt\""))
        #expect(page.contains("href=\"./quote%22.txt\""))
        #expect(page.contains("href=\"./javascript:alert(1)\""))
        #expect(!page.contains("href=\"javascript:"))
    }

    /// Every link in the listing leads to the file it names.
    @Test func listingLinksWork() throws {
        for name in DirectorySite.awkwardNames {
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let response = try request(port, "/docs/" + encoded)
            #expect(response.status == 200, "\(name)")
            #expect(response.bodyText == "x\n", "\(name)")
        }
    }

    @Test func rootListingHasNoParentLink() throws {
        let page = try request(port, "/").bodyText
        #expect(page.contains("<title>Index of /</title>"))
        #expect(!page.contains("href=\"../\""))
        #expect(page.contains("href=\"./docs/\""))
    }

    @Test func anIndexHtmlDirectoryIsNotAnIndexPage() throws {
        let response = try request(port, "/odd/")
        #expect(response.status == 200)
        #expect(response.bodyText.contains("<title>Index of /odd/</title>"))
        #expect(response.bodyText.contains("href=\"./index.html/\""))
    }

    /// --no-listing: a directory without index.html is 403; index pages and
    /// redirects still work.
    @Test func noListing() throws {
        let server = try FerryServer(["--no-listing", Fixture.scratch.root])
        defer { server.stop() }
        let listing = try request(server.port, "/docs/")
        #expect(listing.status == 403)
        #expect(!listing.bodyText.contains("a.txt"))
        #expect(try request(server.port, "/").status == 403)
        #expect(try request(server.port, "/site/").bodyText == "<!DOCTYPE html><title>site index</title>\n")
        #expect(try request(server.port, "/docs").status == 301)
        #expect(try request(server.port, "/docs/a.txt").bodyText == "a\n")
    }
}
