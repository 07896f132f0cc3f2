import Foundation
import Testing

private enum ErrorsSite: FixtureSite {
    static let content = "plain text file\n"

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/file.txt", content)
        try scratch.write("root/docs/readme.txt", "readme\n")
        try scratch.fifo("root/pipe")
        try scratch.symlink("root/outside", to: "/etc/passwd")
        try scratch.write("root/locked.txt", "locked\n")
        chmod(scratch.at("root/locked.txt"), 0)
    }
}

/// Every status the server answers, each error as a small HTML page with the right
/// head; GET and HEAD; methods that are refused.
@Suite(.fixture("errors", site: ErrorsSite.self))
struct MethodsAndErrorsTests {
    var port: Int { Fixture.server.port }

    /// What every error response shares: the status line (in the request's version, or
    /// HTTP/1.1 for a head that could not be read), an HTML page whose length is
    /// Content-Length, and `Connection: close` (these requests are HTTP/1.0 or refused).
    func expectErrorPage(_ response: HTTPResponseText, _ status: Int, _ comment: String) {
        #expect(response.status == status, "\(comment)")
        #expect(response.statusLine.hasPrefix("HTTP/1.0 \(status) ") || response.statusLine.hasPrefix("HTTP/1.1 \(status) "),
                "\(comment)")
        #expect(response.field("Content-Type") == "text/html; charset=utf-8", "\(comment)")
        #expect(response.field("Content-Length") == String(response.body.count), "\(comment)")
        #expect(response.field("Connection") == "close", "\(comment)")
        #expect(response.field("Server") == "Ferry", "\(comment)")
        #expect(response.field("Date") != nil, "\(comment)")
        #expect(response.bodyText.hasPrefix("<!DOCTYPE html>"), "\(comment)")
        #expect(response.bodyText.contains("<h1>\(status) "), "\(comment)")
        #expect(!response.rawText.contains(ErrorsSite.content), "\(comment)")
    }

    // MARK: success

    @Test func getHasEveryHeader() throws {
        let response = try request(port, "/file.txt")
        #expect(response.statusLine == "HTTP/1.0 200 OK")
        #expect(response.field("Server") == "Ferry")
        #expect(response.field("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.field("Content-Length") == String(ErrorsSite.content.utf8.count))
        #expect(response.field("Accept-Ranges") == "bytes")
        #expect(response.field("Connection") == "close")
        #expect(response.field("ETag") != nil)
        #expect(response.bodyText == ErrorsSite.content)
        // Date and Last-Modified in the IMF-fixdate format, Date close to now.
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let date = try #require(formatter.date(from: response.field("Date") ?? ""))
        #expect(abs(date.timeIntervalSinceNow) < 60)
        #expect(formatter.date(from: response.field("Last-Modified") ?? "") != nil)
    }

    /// An HTTP/1.1 request (with Host) is answered in HTTP/1.1; asking to close, it
    /// is told the connection closes.
    @Test func http11RequestGetsAnHTTP11Answer() throws {
        let response = try request(port, "/file.txt", headers: ["Host: 127.0.0.1", "Connection: close"],
                                   version: "HTTP/1.1")
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.field("Connection") == "close")
        #expect(response.bodyText == ErrorsSite.content)
    }

    /// HEAD sends the head GET would (all fields, Content-Length included) and no body,
    /// for files, ranges, listings, redirects and errors alike.
    @Test(arguments: [("/file.txt", [String]()), ("/file.txt", ["Range: bytes=2-5"]), ("/docs/", []),
                      ("/docs", []), ("/missing", []), ("/file.txt", ["If-None-Match: *"])])
    func headMatchesGet(path: String, headers: [String]) throws {
        let get = try request(port, path, headers: headers)
        let head = try request(port, path, method: "HEAD", headers: headers)
        #expect(head.statusLine == get.statusLine, "\(path)")
        #expect(head.fieldsWithoutDate == get.fieldsWithoutDate, "\(path)")
        #expect(head.field("Date") != nil)
        #expect(head.body.isEmpty, "\(path)")
        if let length = get.field("Content-Length") {
            #expect(length == String(get.body.count), "\(path)")
        }
    }

    /// curl -I is a HEAD.
    @Test func curlHead() throws {
        let result = try run("curl", ["-sS", "-I", Fixture.server.base + "/file.txt"])
        #expect(result.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(result.text.contains("Content-Length: \(ErrorsSite.content.utf8.count)\r\n"))
        #expect(!result.text.contains(ErrorsSite.content))
    }

    // MARK: each error status

    @Test(arguments: [
        "GET /file.txt HTTP/1.0 extra\r\n\r\n",       // four parts
        "GET  /file.txt HTTP/1.0\r\n\r\n",            // two spaces
        "GET /file.txt\r\n\r\n",                      // HTTP/0.9 style, no version
        "GET /file.txt HTTP/1.10\r\n\r\n",            // malformed version
        "GET /file.txt http/1.0\r\n\r\n",             // version is case-sensitive
        "GET /file.txt HTTP/1.1\r\n\r\n",             // HTTP/1.1 without Host
        "GET /file.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET /%zz HTTP/1.0\r\n\r\n",                  // malformed percent-encoding
        "GET * HTTP/1.0\r\n\r\n",                     // asterisk-form
        "GET file.txt HTTP/1.0\r\n\r\n",              // relative reference
        "GET /file.txt HTTP/1.0\r\nBad Name: x\r\n\r\n",
        "GET /file.txt HTTP/1.0\r\nHost : x\r\n\r\n", // whitespace before colon
        "GET /file.txt HTTP/1.0\r\nA: b\r\n folded\r\n\r\n",
        "GET /file.txt HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        "GET /file.txt HTTP/1.0\r\nContent-Length: -1\r\n\r\n",
        "G\u{7f}T /file.txt HTTP/1.0\r\n\r\n",        // method is not a token
        "GET /fi\u{1}le.txt HTTP/1.0\r\n\r\n",        // control byte in the target
        "GET /file.txt HTTP/1.0\r\n",                 // the client closes before the blank line
    ])
    func badRequest(raw: String) throws {
        let client = try RawClient(port: port)
        client.send(raw)
        shutdown(client.fd, Int32(SHUT_WR))
        expectErrorPage(client.response(), 400, raw.debugDescription)
    }

    /// A FIFO must never be opened for reading by a worker (it would block), and a
    /// symbolic link leading out of the root is refused by the kernel (EXDEV): 403.
    @Test func specialFilesAndEscapingLinksAreForbidden() throws {
        expectErrorPage(try request(port, "/pipe"), 403, "FIFO")
        expectErrorPage(try request(port, "/outside"), 403, "symlink to /etc/passwd")
    }

    /// A file the server may not read is 403. Root reads every file, so this can only
    /// be observed when the tests do not run as root.
    @Test(.enabled(if: getuid() != 0, "root reads files without read permission"))
    func unreadableFileIsForbidden() throws {
        expectErrorPage(try request(port, "/locked.txt"), 403, "mode 000")
    }

    @Test(arguments: ["/missing.txt", "/file.txt/", "/docs/missing/", "/file.txt/x", "/%E2%9C%93"])
    func notFound(path: String) throws {
        expectErrorPage(try request(port, path), 404, path)
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "CONNECT"])
    func knownMethodsAreNotAllowed(method: String) throws {
        let client = try RawClient(port: port)
        let body = method == "POST" || method == "PUT" ? "Content-Length: 5\r\n\r\nhello" : "\r\n"
        client.send("\(method) /file.txt HTTP/1.0\r\n\(body)")
        let response = client.response()
        expectErrorPage(response, 405, method)
        #expect(response.field("Allow") == "GET, HEAD", "\(method)")
    }

    @Test(arguments: ["BREW", "FOO", "get", "PROPFIND-X"])
    func unknownMethodsAreNotImplemented(method: String) throws {
        expectErrorPage(try request(port, "/file.txt", method: method), 501, method)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0"])
    func otherVersionsAreNotSupported(version: String) throws {
        expectErrorPage(try request(port, "/file.txt", version: version), 505, version)
    }

    /// 414 and 431 with their error pages (the limits themselves: LimitsTests); 416:
    /// RangeTests; 408: LimitsTests.
    @Test func tooLongAndTooLargeArePages() throws {
        expectErrorPage(try request(port, "/" + String(repeating: "a", count: 9000)), 414, "414")
        expectErrorPage(try request(port, "/file.txt", headers: ["X-Big: " + String(repeating: "b", count: 17 * 1024)]),
                        431, "431")
        let unsatisfiable = try request(port, "/file.txt", headers: ["Range: bytes=100-"])
        expectErrorPage(unsatisfiable, 416, "416")
    }

    /// 500 needs a failure that is the server's, not the client's: the worker runs
    /// out of descriptors. With RLIMIT_NOFILE set (prlimit) to one above its lowest
    /// free descriptor, the connection still arrives, but opening the file fails with
    /// EMFILE, which is neither "not found" nor "forbidden".
    @Test func outOfDescriptorsIs500() throws {
        // prlimit on another user's process needs CAP_SYS_RESOURCE, which containers
        // lack: started as root, the worker stays root so that the test may lower its limit.
        let sameUser = getuid() == 0 ? ["--allow-root", "--user", "root"] : []
        let server = try FerryServer(["--workers", "1", "--max-workers", "1"] + sameUser + [Fixture.scratch.root])
        defer { server.stop() }
        let worker = try #require(server.workers(atLeast: 1).first)
        // One answered request first: the worker has then opened everything it keeps
        // (its event loop, channel, caches, and that file in its open-file cache), so
        // the descriptors read below are final.
        #expect(try request(server.port, "/file.txt").status == 200)
        let open = Set((try FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd")).compactMap { Int($0) })
        let lowestFree = (0...).first { !open.contains($0) }!
        try shell("prlimit --pid \"$1\" --nofile=\"$2\":\"$2\"", String(worker), String(lowestFree + 1))

        // A file not served yet: the cache holds none of its descriptors.
        let response = try request(server.port, "/docs/readme.txt")
        expectErrorPage(response, 500, "EMFILE")
        #expect(response.bodyText.contains("Too many open files"))
        #expect(server.workerPIDs() == [worker], "the worker survives its own 500")
    }
}
