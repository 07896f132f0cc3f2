import Foundation
import Testing

/// The shipped site (public/, with the shipped conf/) in a real browser: Debian's
/// headless Chromium, installed by `scripts/ensure-deps test`. The page's own module
/// script (public/app.mjs) reports in the DOM whether the stylesheet applied, the
/// module ran, the images decoded, it came precompressed and a HEAD of the page
/// answered; the test reads the DOM after the scripts ran, checks the access log
/// against the sidecar that was sent, renders a listing, and takes a screenshot whose
/// pixels must show the stylesheet's colours.
@Suite(.serialized) struct BrowserTests {
    /// Chromium's flags for a sandbox-less container (tests run as root here).
    static let chromiumFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                "--no-first-run", "--virtual-time-budget=10000"]

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    let scratch: String = FileManager.default.temporaryDirectory
        .appendingPathComponent("ferry-browser-\(UUID().uuidString)").path

    @Test func shippedSiteWorksInChromium() throws {
        let chromium = try #require(Self.chromium, "no chromium: run scripts/ensure-deps test (apt-get install chromium)")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let accessLog = scratch + "/access.log"
        let server = try FerryServer(["--access-log", accessLog])
        defer { server.stop() }

        // The page, after its module script ran: every check reported "ok".
        let page = try run(chromium, Self.chromiumFlags + ["--user-data-dir=\(scratch)/profile", "--dump-dom",
                                                           server.base + "/"], timeout: 90, directory: scratch)
        let dom = page.text
        for check in ["style", "script", "images", "precompressed", "head"] {
            let field = try #require(Self.field("check-\(check)", in: dom), "no check-\(check) in the page:\n\(dom)")
            let hint = check == "precompressed" ? " (after editing public/app.mjs, run scripts/precompress public/app.mjs)" : ""
            #expect(field.state == "ok", "check-\(check): \(field.text)\(hint)")
        }

        // The server's side of the precompressed check: the bytes logged for /app.mjs
        // are one sidecar's size, not the script's own.
        let log = try String(contentsOfFile: accessLog, encoding: .utf8)
        let line = try #require(log.split(separator: "\n").first { $0.contains("\"GET /app.mjs HTTP/1.1\" 200 ") },
                                "no GET /app.mjs in the access log:\n\(log)")
        let sent = Int(line.split(separator: "\"")[2].split(separator: " ")[1])
        let sidecars = try ["br", "zst", "gz"].map { try Self.size(packageRoot + "/public/app.mjs." + $0) }
        #expect(sent.map(sidecars.contains) == true, "app.mjs sent as \(sent ?? -1) bytes; sidecars are \(sidecars)")

        // A directory listing, rendered: the parent link and every entry of public/docs.
        let listing = try run(chromium, Self.chromiumFlags + ["--user-data-dir=\(scratch)/profile", "--dump-dom",
                                                              server.base + "/docs/"], timeout: 90, directory: scratch)
        #expect(listing.text.contains("<h1>Index of /docs/</h1>"), "listing:\n\(listing.text)")
        for link in ["../", "./nested/", "./data.json", "./diagram.svg", "./readme.txt", "?sort=size&amp;order=asc"] {
            #expect(listing.text.contains("href=\"\(link)\""), "no link to \(link) in the rendered listing")
        }

        // A screenshot: mostly the stylesheet's paper colour, with its sea-blue heading.
        let screenshot = scratch + "/site.png"
        let shot = try run(chromium, Self.chromiumFlags + ["--user-data-dir=\(scratch)/profile", "--window-size=900,1000",
                                                           "--screenshot=\(screenshot)", server.base + "/"],
                           timeout: 90, directory: scratch)
        #expect(FileManager.default.fileExists(atPath: screenshot), "no screenshot: \(shot.stderr.suffix(1000))")
        let colours = try run("python3", [packageRoot + "/Tests/Fixtures/browser/png_colours.py", screenshot,
                                          "f8f6f0", "1d4e89"], timeout: 120)
        let shares = colours.text.split(separator: "\n").dropFirst().compactMap { Double($0) }
        #expect(colours.text.hasPrefix("900 1000"), "screenshot size: \(colours.text) \(colours.stderr)")
        #expect(shares.count == 2 && shares[0] > 0.5, "paper colour share \(shares): the stylesheet did not apply")
        #expect(shares.count == 2 && shares[1] > 0.001, "sea-blue share \(shares): no styled heading or logo")
        let kept = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-site.png").path
        try? FileManager.default.removeItem(atPath: kept)
        try FileManager.default.copyItem(atPath: screenshot, toPath: kept)
        print("BrowserTests: screenshot saved to \(kept)")
    }

    /// The `data-check` state and text of the element with `id` in dumped HTML.
    static func field(_ id: String, in html: String) -> (state: String, text: String)? {
        guard let start = html.range(of: "id=\"\(id)\" data-check=\"") else { return nil }
        let rest = html[start.upperBound...]
        guard let quote = rest.firstIndex(of: "\""), let open = rest.firstIndex(of: ">"),
              let close = rest.range(of: "</dd>") else { return nil }
        return (String(rest[..<quote]), String(rest[rest.index(after: open)..<close.lowerBound]))
    }

    static func size(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? -1
    }
}
