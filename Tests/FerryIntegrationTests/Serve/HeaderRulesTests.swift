import Foundation
import Testing

private enum HeaderRulesSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/index.html", "<!DOCTYPE html><title>home</title>\n")
        try scratch.write("root/assets/app.3f2a91.js", "console.log(1)\n")
        try scratch.write("root/api/data.json", "{}\n")
        try scratch.write("root/plain.txt", "plain\n")
        try scratch.write("errors/404.html", "<!DOCTYPE html><title>our own 404</title>\n")
    }
}

/// [[headers]] rules on every kind of response, and [http] error_pages.
@Suite(.fixture("header-rules", serving: nil, site: HeaderRulesSite.self))
struct HeaderRulesTests {
    var scratch: Scratch { Fixture.scratch }

    static let rules = """
        [http]
        error_pages = "errors"

        [[headers]]
        path = "*.html"
        set = { Cache-Control = "no-cache" }

        [[headers]]
        path = "/assets/**"
        set = { Cache-Control = "public, max-age=31536000, immutable" }

        [[headers]]
        path = "/api/**"
        set = { Access-Control-Allow-Origin = "*" }
        remove = ["Last-Modified"]

        [[headers]]
        path = "/**"
        set = { X-Content-Type-Options = "nosniff" }
        """

    func withServer(_ body: (Int) throws -> Void) throws {
        let config = try configFile(scratch, Self.rules)
        let server = try FerryServer(["--config", config, scratch.root])
        defer { server.stop() }
        try body(server.port)
    }

    @Test func rulesApplyToEveryResponseForTheirPaths() throws {
        try withServer { port in
            let page = try request(port, "/index.html")
            #expect(page.field("Cache-Control") == "no-cache")
            #expect(page.field("X-Content-Type-Options") == "nosniff")
            // The directory "/" is served by its index page but its path is "/": only "/**".
            let root = try request(port, "/")
            #expect(root.field("Cache-Control") == nil)
            #expect(root.field("X-Content-Type-Options") == "nosniff")

            let asset = try request(port, "/assets/app.3f2a91.js")
            #expect(asset.field("Cache-Control") == "public, max-age=31536000, immutable")
            let etag = try #require(asset.field("ETag"))
            let notModified = try request(port, "/assets/app.3f2a91.js", headers: ["If-None-Match: \(etag)"])
            #expect(notModified.status == 304)
            #expect(notModified.field("Cache-Control") == "public, max-age=31536000, immutable")
            let head = try request(port, "/assets/app.3f2a91.js", method: "HEAD")
            #expect(head.field("Cache-Control") == "public, max-age=31536000, immutable")
            #expect(head.field("Content-Length") == "15")

            let api = try request(port, "/api/data.json")
            #expect(api.field("Access-Control-Allow-Origin") == "*")
            #expect(api.field("Last-Modified") == nil)
            #expect(api.field("ETag") != nil)
            let listing = try request(port, "/api/")
            #expect(listing.field("Access-Control-Allow-Origin") == "*")
            let missing = try request(port, "/api/missing")
            #expect(missing.status == 404)
            #expect(missing.field("Access-Control-Allow-Origin") == "*")

            let plain = try request(port, "/plain.txt")
            #expect(plain.field("Cache-Control") == nil)
            #expect(plain.field("Access-Control-Allow-Origin") == nil)
            // A set replaces, never duplicates.
            #expect(page.fields.filter { $0.0.lowercased() == "cache-control" }.count == 1)
            // curl sees the same.
            let curl = try run("curl", ["-sSI", "http://127.0.0.1:\(port)/assets/app.3f2a91.js"])
            #expect(curl.text.contains("Cache-Control: public, max-age=31536000, immutable\r\n"))
        }
    }

    @Test func customErrorPages() throws {
        try withServer { port in
            let missing = try request(port, "/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.bodyText == "<!DOCTYPE html><title>our own 404</title>\n")
            #expect(missing.field("Content-Type") == "text/html; charset=utf-8")
            #expect(missing.field("Content-Length") == String(missing.body.count))
            let head = try request(port, "/nothing-here", method: "HEAD")
            #expect(head.field("Content-Length") == String(missing.body.count))
            #expect(head.body.isEmpty)
            // No 405.html: the built-in page.
            let post = try request(port, "/plain.txt", method: "POST")
            #expect(post.status == 405)
            #expect(post.bodyText.contains("405"))
            #expect(!post.bodyText.contains("our own"))
            // Added while running: used at once.
            try scratch.write("errors/405.html", "custom 405\n")
            #expect(try request(port, "/plain.txt", method: "POST").bodyText == "custom 405\n")
            // A redirect is not an error page.
            #expect(try request(port, "/assets").bodyText.contains("our own") == false)
        }
    }

    @Test func aBadRuleStopsStartupWithOneLine() throws {
        let config = try configFile(scratch, "[[headers]]\npath = \"/x\"\nset = { \"Bad Name\" = \"v\" }\n")
        let result = try run(ferryBinary, ["serve", "--config", config, "--port", "0", scratch.root], timeout: 30)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(result.stderr.contains("[[headers]] #1 (path \"/x\"): set: \"Bad Name\" is not a field name"))
        #expect(result.stdout.isEmpty)
    }

    @Test func aMissingErrorPagesDirectoryStopsStartup() throws {
        let result = try run(ferryBinary, ["serve", "--error-pages", scratch.at("nowhere"), "--port", "0", scratch.root],
                             timeout: 30)
        #expect(result.status == 2)
        #expect(result.stderr == "ferry: --error-pages: \(scratch.at("nowhere")) is not a directory\n")
    }
}
