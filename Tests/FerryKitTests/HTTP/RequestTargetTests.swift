import Testing
@testable import FerryKit

@Suite struct RequestTargetTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var target: String
        var relative: String
        var hasTrailingSlash: Bool
        var urlPath: String
        var query: String?
        var testDescription: String { target }

        init(_ target: String, _ relative: String, slash: Bool, url: String, query: String? = nil) {
            self.target = target
            self.relative = relative
            self.hasTrailingSlash = slash
            self.urlPath = url
            self.query = query
        }
    }

    @Test(arguments: [
        Case("/", "", slash: true, url: "/"),
        Case("/index.html", "index.html", slash: false, url: "/index.html"),
        Case("/docs/", "docs", slash: true, url: "/docs/"),
        Case("/a/./b//c", "a/b/c", slash: false, url: "/a/b/c"),
        Case("/a/b/../c", "a/c", slash: false, url: "/a/c"),
        Case("/a/b/..", "a", slash: true, url: "/a/"),
        Case("/a/.", "a", slash: true, url: "/a/"),
        Case("/a/..", "", slash: true, url: "/"),
        Case("/a/%2e%2E/b", "b", slash: false, url: "/b"),                 // decoded dot segments normalize
        Case("/%252e%252e/x", "%2e%2e/x", slash: false, url: "/%252e%252e/x"),  // decoded once only
        Case("/a%20b", "a b", slash: false, url: "/a%20b"),
        Case("/caf%C3%A9", "café", slash: false, url: "/caf%C3%A9"),
        Case("/a\\..\\b", "a\\..\\b", slash: false, url: "/a%5C..%5Cb"),  // backslashes are bytes
        Case("/..%5c..%5cetc", "..\\..\\etc", slash: false, url: "/..%5C..%5Cetc"),
        Case("//evil.com/", "evil.com", slash: true, url: "/evil.com/"),  // never "//host"
        Case("///evil.com", "evil.com", slash: false, url: "/evil.com"),
        Case("/search?q=a+b&x=%20", "search", slash: false, url: "/search", query: "q=a+b&x=%20"),
        Case("/a?", "a", slash: false, url: "/a", query: ""),
        Case("/a?b?c", "a", slash: false, url: "/a", query: "b?c"),
        Case("/a?q=1#frag", "a", slash: false, url: "/a", query: "q=1"),
        Case("/a#frag?not-query", "a", slash: false, url: "/a"),
        Case("/a%3Fb", "a?b", slash: false, url: "/a%3Fb"),
        Case("http://evil/x/../y", "y", slash: false, url: "/y"),
        Case("http://example.com", "", slash: true, url: "/"),
        Case("http://example.com?x=1", "", slash: true, url: "/", query: "x=1"),
        Case("HTTPS://example.com:8443/a/", "a", slash: true, url: "/a/"),
        Case("http://user@host:80//b", "b", slash: false, url: "/b"),
    ])
    func normalizes(_ test: Case) throws {
        let path = try RequestTarget.parse(test.target).get()
        #expect(path.relative == Array(test.relative.utf8))
        #expect(path.hasTrailingSlash == test.hasTrailingSlash)
        #expect(path.urlPath == test.urlPath)
        #expect(path.query == test.query)
    }

    @Test(arguments: [
        ("/%2e%2e/etc/passwd", "path escapes the document root"),
        ("/a/../../x", "path escapes the document root"),
        ("/..", "path escapes the document root"),
        ("http://h/../x", "path escapes the document root"),
        ("/a%2Fb", "encoded slash or NUL in path"),
        ("/a%2f..%2f..%2fetc", "encoded slash or NUL in path"),
        ("/a%00", "encoded slash or NUL in path"),
        ("/a%zz", "malformed percent-encoding in path"),
        ("/a%2", "malformed percent-encoding in path"),
        ("*", "unsupported request-target form"),
        ("example.com:443", "unsupported request-target form"),
        ("a/b", "unsupported request-target form"),
        ("", "unsupported request-target form"),
        ("ftp://host/x", "unsupported request-target form"),
        ("http:/x", "unsupported request-target form"),
        ("?q", "unsupported request-target form"),
    ])
    func rejects(_ target: String, _ reason: String) {
        #expect(RequestTarget.parse(target) == .failure(HTTPError(status: .badRequest, reason: reason)))
    }

    @Test func requestLineSpacesCannotReachTheTarget() throws {
        // "/a b" never arrives (the request line splits on spaces); the encoded form does.
        #expect(status("GET /a b HTTP/1.0\r\n\r\n") == 400)
        #expect(try RequestTarget.parse("/a%20b").get().relative == Array("a b".utf8))
    }

    private func status(_ text: String) -> Int? {
        var parser = RequestHeadParser(limits: HeadLimits())
        guard case .failed(let error, _) = Array(text.utf8).withUnsafeBytes({ parser.parse($0) }) else { return nil }
        return error.status.code
    }

    @Test(arguments: [
        ("/.git/config", true),
        ("/a/.env", true),
        ("/.hidden/", true),
        ("/a/.b/c", true),
        ("/%2ehtaccess", true),
        ("/.well-known/acme-challenge/token", false),
        ("/.well-known", false),
        ("/.well-known/.x", true),
        ("/.well-known/a/.git/config", true),
        ("/a/.well-known/x", true),
        ("/.well-knownx/a", true),
        ("/x/../.git", true),
        ("/.git/..", false),
        ("/a./b", false),
        ("/index.html", false),
        ("/", false),
    ])
    func hiddenPaths(_ target: String, _ hidden: Bool) throws {
        #expect(try RequestTarget.parse(target).get().isHidden == hidden)
    }
}
