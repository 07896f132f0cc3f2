import Foundation
import Testing

private enum ListingSite: FixtureSite {
    /// name, size, mtime: every order differs from the others.
    static let files: [(String, Int, Int)] = [
        ("b.txt", 300, 1_700_000_300), ("a.txt", 20, 1_700_000_100), ("c.txt", 1, 1_700_000_200),
    ]
    static let directories: [(String, Int)] = [("zdir", 1_600_000_000), ("adir", 1_650_000_000)]
    static let awkward = "q\"\\<x>\u{1}.txt"

    static func build(_ scratch: Scratch) throws {
        for (name, size, mtime) in files {
            try scratch.write("root/list/" + name, bytes: Array(repeating: 120, count: size))
            try scratch.touch("root/list/" + name, mtime: mtime)
        }
        for (name, mtime) in directories {
            try scratch.directory("root/list/" + name)
            try scratch.touch("root/list/" + name, mtime: mtime)
        }
        try scratch.write("root/odd/" + awkward, "x")
        try scratch.write("root/odd/.hidden", "x")
        try scratch.fifo("root/odd/pipe")
        try scratch.symlink("root/odd/dangling", to: "nowhere")
    }
}

/// Listings sorted through their column heads, and the JSON form nginx's
/// `autoindex_format json` clients read.
@Suite(.fixture("listing-forms", site: ListingSite.self))
struct ListingFormsTests {
    var port: Int { Fixture.server.port }

    /// The entry names of an HTML listing, in page order, without "../".
    func names(_ query: String) throws -> [String] {
        let page = try request(port, "/list/" + query).bodyText
        return page.components(separatedBy: "<tr><td><a href=\"./").dropFirst().map {
            String($0.prefix { $0 != "\"" })
        }
    }

    @Test func sortedByEachColumnBothWays() throws {
        #expect(try names("") == ["adir/", "zdir/", "a.txt", "b.txt", "c.txt"])
        #expect(try names("?sort=name&order=asc") == ["adir/", "zdir/", "a.txt", "b.txt", "c.txt"])
        #expect(try names("?sort=name&order=desc") == ["zdir/", "adir/", "c.txt", "b.txt", "a.txt"])
        #expect(try names("?sort=size") == ["adir/", "zdir/", "c.txt", "a.txt", "b.txt"])
        #expect(try names("?sort=size&order=desc") == ["zdir/", "adir/", "b.txt", "a.txt", "c.txt"])
        #expect(try names("?sort=time") == ["zdir/", "adir/", "a.txt", "c.txt", "b.txt"])
        #expect(try names("?order=desc&sort=time") == ["adir/", "zdir/", "b.txt", "c.txt", "a.txt"])
        // Unknown values are the default order, not an error.
        #expect(try names("?sort=colour&order=sideways") == ["adir/", "zdir/", "a.txt", "b.txt", "c.txt"])
    }

    /// The heads link to the other orders, so sorting needs no script; the parent
    /// link stays first whatever the order.
    @Test func columnHeadsAreLinks() throws {
        let page = try request(port, "/list/").bodyText
        #expect(page.contains("<th aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name</a> \u{2191}</th>"))
        #expect(page.contains("<th><a href=\"?sort=size&amp;order=asc\">Size</a></th>"))
        #expect(page.contains("<th><a href=\"?sort=time&amp;order=asc\">Modified</a></th>"))
        let bySize = try request(port, "/list/?sort=size&order=asc").bodyText
        #expect(bySize.contains("<a href=\"?sort=size&amp;order=desc\">Size</a> \u{2191}"))
        #expect(bySize.contains("<a href=\"?sort=name&amp;order=asc\">Name</a></th>"))
        let descending = try request(port, "/list/?sort=size&order=desc").bodyText
        #expect(descending.contains("<th aria-sort=\"descending\"><a href=\"?sort=size&amp;order=asc\">Size</a> \u{2193}</th>"))
        #expect(descending.range(of: "href=\"../\"")!.lowerBound < descending.range(of: "href=\"./zdir/\"")!.lowerBound)
        // curl follows a head's link like a browser does.
        let followed = try run("curl", ["-sS", "http://127.0.0.1:\(port)/list/?sort=time&order=desc"])
        #expect(followed.text.contains("aria-sort=\"descending\""))
    }

    func json(_ target: String, accept: String? = nil) throws -> (HTTPResponseText, [[String: Any]]) {
        let response = try request(port, target, headers: accept.map { ["Accept: \($0)"] } ?? [])
        let parsed = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]
        return (response, try #require(parsed, "\(response.bodyText)"))
    }

    @Test func jsonHasNginxsFields() throws {
        let (response, entries) = try json("/list/?format=json")
        #expect(response.status == 200)
        #expect(response.field("Content-Type") == "application/json")
        #expect(response.field("Vary") == "Accept")
        #expect(entries.map { $0["name"] as? String } == ["adir", "zdir", "a.txt", "b.txt", "c.txt"])
        let adir = entries[0], b = entries[3]
        #expect(Set(adir.keys) == ["name", "type", "mtime"])
        #expect(adir["type"] as? String == "directory")
        #expect(adir["mtime"] as? String == "Fri, 15 Apr 2022 05:20:00 GMT")
        #expect(Set(b.keys) == ["name", "type", "mtime", "size"])
        #expect(b["type"] as? String == "file")
        #expect(b["size"] as? Int == 300)
        #expect(b["mtime"] as? String == "Tue, 14 Nov 2023 22:18:20 GMT")
        // The order parameters apply to JSON too.
        let (_, bySize) = try json("/list/?format=json&sort=size&order=desc")
        #expect(bySize.map { $0["name"] as? String } == ["zdir", "adir", "b.txt", "a.txt", "c.txt"])
    }

    @Test func jsonByAccept() throws {
        for accept in ["application/json", "application/json, text/plain, */*", "text/html;q=0.5, application/json"] {
            let (response, entries) = try json("/list/", accept: accept)
            #expect(response.field("Content-Type") == "application/json", "\(accept)")
            #expect(entries.count == 5, "\(accept)")
        }
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        for accept in [browser, "*/*", "application/json;q=0, text/html", "text/html, application/json;q=0.9"] {
            let response = try request(port, "/list/", headers: ["Accept: \(accept)"])
            #expect(response.field("Content-Type") == "text/html; charset=utf-8", "\(accept)")
        }
        // The query wins over Accept.
        let html = try request(port, "/list/?format=html", headers: ["Accept: application/json"])
        #expect(html.field("Content-Type") == "text/html; charset=utf-8")
        #expect(html.field("Vary") == "Accept")
    }

    /// Names are JSON-escaped and parse back to the bytes on disk; entries that
    /// cannot be stat'ed are left out, as nginx leaves them out; a FIFO is "other".
    @Test func jsonEscapesNames() throws {
        let (response, entries) = try json("/odd/?format=json")
        #expect(response.bodyText.contains(#""name":"q\"\\<x>\u0001.txt""#))
        let names = Set(entries.compactMap { $0["name"] as? String })
        #expect(names == [ListingSite.awkward, "pipe"])
        #expect(entries.first { $0["name"] as? String == "pipe" }?["type"] as? String == "other")
        #expect(entries.first { $0["name"] as? String == "pipe" }?["size"] == nil)
        // Python's json module, as a program would read it.
        let parsed = try run("python3", ["-c", "import json,sys; print(sorted(e['name'] for e in json.load(sys.stdin)))"],
                             stdin: Data(response.body))
        #expect(parsed.text == "['pipe', 'q\"\\\\<x>\\x01.txt']\n")
    }

    @Test func headOfAJsonListing() throws {
        let get = try request(port, "/list/?format=json")
        let head = try request(port, "/list/?format=json", method: "HEAD")
        #expect(head.field("Content-Length") == String(get.body.count))
        #expect(head.body.isEmpty)
    }
}
