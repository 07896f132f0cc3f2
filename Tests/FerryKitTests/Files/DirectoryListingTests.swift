import Foundation
import Glibc
import Testing
@testable import FerryKit

@Suite struct DirectoryListingTests {
    static let awkwardName = "<b>&\"x\".txt"

    /// A directory with names that sort, hide, escape and link in every way that matters.
    private func makeSite(_ tree: TemporaryTree) throws {
        try tree.makeDirectory("site")
        try tree.write("site/b.txt", "bbb")
        try tree.write("site/a.txt", "aaaa")
        try tree.write("site/B.txt", "B")
        try tree.write("site/.hidden", "secret")
        try tree.makeDirectory("site/.git")
        try tree.makeDirectory("site/sub")
        try tree.write("site/" + Self.awkwardName, "x")
        try tree.write("site/javascript:alert(1)", "x")
        try tree.write("site/a b.txt", "x")
        try tree.write(in: "site", name: [0x66, 0xFF], Array("invalid".utf8))
        try tree.symlink("site/link-to-sub", to: "sub")
        try tree.symlink("site/dangling", to: "nowhere")
        try tree.setModified("site/a.txt", seconds: 1_706_702_400)
    }

    private func render(_ tree: TemporaryTree, urlPath: String) throws -> String {
        let fd = open(tree.at("site"), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try TemporaryTree.check(fd, "open site")
        defer { close(fd) }
        return String(decoding: try DirectoryListing.render(directory: fd, urlPath: urlPath), as: UTF8.self)
    }

    @Test func isACompletePageWithTitleAndParentLink() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try makeSite(tree)

        let page = try render(tree, urlPath: "/docs/")
        #expect(page.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
        #expect(page.hasSuffix("</html>\n"))
        #expect(page.contains("<meta charset=\"utf-8\">"))
        #expect(page.contains("<title>Index of /docs/</title>"))
        #expect(page.contains("<h1>Index of /docs/</h1>"))
        #expect(page.contains("<a href=\"../\">../</a>"))
        #expect(DirectoryListing.contentType == "text/html; charset=utf-8")

        let top = try render(tree, urlPath: "/")
        #expect(top.contains("<title>Index of /</title>"))
        #expect(!top.contains("../"))
    }

    @Test func directoriesFirstThenSortedByBytesWithDotFilesLeftOut() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try makeSite(tree)

        let page = try render(tree, urlPath: "/docs/")
        let order = ["../", "./link-to-sub/", "./sub/", "./%3Cb%3E&amp;%22x%22.txt", "./B.txt", "./a%20b.txt",
                     "./a.txt", "./b.txt", "./dangling", "./f%FF", "./javascript:alert(1)"]
        let positions = order.map { page.range(of: "href=\"\($0)\"")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil }, "\(page)")
        let found = positions.compactMap { $0 }
        #expect(found == found.sorted())
        #expect(!page.contains("hidden"))
        #expect(!page.contains(".git"))
        #expect(page.components(separatedBy: "<tr><td>").count - 1 == order.count)
    }

    @Test func namesAreEscapedForDisplayAndEncodedInLinks() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try makeSite(tree)

        let page = try render(tree, urlPath: "/<x>&\"/")
        #expect(page.contains("<a href=\"./%3Cb%3E&amp;%22x%22.txt\">&lt;b&gt;&amp;&quot;x&quot;.txt</a>"))
        #expect(!page.contains("<b>"))
        #expect(page.contains("<title>Index of /&lt;x&gt;&amp;&quot;/</title>"))
        #expect(page.contains("<a href=\"./a%20b.txt\">a b.txt</a>"))
        #expect(page.contains("<a href=\"./f%FF\">f\u{FFFD}</a>"), "invalid UTF-8 shown as U+FFFD")
        #expect(page.contains("<a href=\"./javascript:alert(1)\">"), "never a bare scheme")
    }

    @Test func rowsShowKindSizeAndTime() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try makeSite(tree)

        let page = try render(tree, urlPath: "/docs/")
        #expect(page.contains("<a href=\"./a.txt\">a.txt</a></td><td>4</td><td>2024-01-31 12:00</td>"))
        #expect(page.contains("<a href=\"./sub/\">sub/</a></td><td>-</td><td>"))
        #expect(page.contains("<a href=\"./link-to-sub/\">link-to-sub/</a></td><td>-</td>"), "links followed")
        #expect(page.contains("<a href=\"./dangling\">dangling</a></td><td>-</td><td>-</td>"))
    }

    @Test func theDescriptorIsNotConsumed() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try makeSite(tree)
        let root = try DocumentRoot(path: tree.at("site"))
        guard case .success(let directory) = root.open([]) else {
            Issue.record("the directory did not open")
            return
        }
        defer { close(directory.fd) }

        let first = try DirectoryListing.render(directory: directory.fd, urlPath: "/")
        let second = try DirectoryListing.render(directory: directory.fd, urlPath: "/")
        #expect(first == second)
        #expect(String(decoding: first, as: UTF8.self).contains("./sub/"))
        #expect(fcntl(directory.fd, F_GETFD) != -1)
    }

    @Test func aRegularFileIsNotAListing() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try tree.write("file", "x")
        let fd = open(tree.at("file"), O_RDONLY | O_CLOEXEC)
        try TemporaryTree.check(fd, "open")
        defer { close(fd) }

        #expect(throws: SystemError.self) { try DirectoryListing.render(directory: fd, urlPath: "/") }
    }

    @Test func timesAreUTCMinutes() {
        #expect(DirectoryListing.formatUTC(0) == "1970-01-01 00:00")
        #expect(DirectoryListing.formatUTC(1_706_702_400) == "2024-01-31 12:00")
        #expect(DirectoryListing.formatUTC(1_706_702_400 + 59) == "2024-01-31 12:00")
        #expect(DirectoryListing.formatUTC(Int64.max) == nil, "out of gmtime's range")
    }
}
