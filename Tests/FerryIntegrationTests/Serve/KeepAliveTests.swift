import Foundation
import Testing

private enum KeepAliveSite: FixtureSite {
    static let small = String(repeating: "k", count: 1024)

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/small.txt", small)
        try scratch.write("root/a.txt", "alpha\n")
        try scratch.write("root/b.txt", "bravo\n")
        try scratch.write("root/c.txt", "charlie\n")
        try scratch.write("root/dir/one.txt", "1\n")
        try scratch.write("root/dir/two.txt", "2\n")
        try scratch.write("root/site/index.html",
                          "<!DOCTYPE html><a href=\"a.html\">a</a> <a href=\"sub/\">sub</a>\n")
        try scratch.write("root/site/a.html", "<!DOCTYPE html><a href=\"sub/b.html\">b</a>\n")
        try scratch.write("root/site/sub/b.html", "<!DOCTYPE html><img src=\"../pic.bin\">\n")
        try scratch.random("root/site/pic.bin", bytes: 50_000)
    }
}

extension RawClient {
    /// Reads one response of a persistent connection: the head, then exactly
    /// Content-Length body bytes (none for HEAD or a 304).
    func readResponse(hasBody: Bool = true) -> HTTPResponseText {
        let head = readHead()
        let length = hasBody && head.status != 304 ? Int(head.field("Content-Length") ?? "0") ?? 0 : 0
        return HTTPResponseText(head.raw + read(count: length))
    }

    /// Whether the server closed: the next read ends the stream without a byte.
    func serverClosed() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}

/// Persistent connections (RFC 9112 §9): reuse by real clients, pipelining, the
/// HTTP/1.0 and HTTP/1.1 rules, framing of every kind of response, and the limits.
@Suite(.fixture("keepalive", site: KeepAliveSite.self))
struct KeepAliveTests {
    var port: Int { Fixture.server.port }
    var root: String { Fixture.scratch.at("root") }

    func get(_ path: String, _ headers: [String] = [], method: String = "GET") -> String {
        "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    @Test func curlReusesTheConnectionForTwoURLs() throws {
        let base = Fixture.server.base
        let result = try run("curl", ["-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                                      base + "/a.txt", base + "/b.txt"])
        // One connect for the first transfer, none for the second.
        #expect(result.text == "1\n0\n")
    }

    @Test func wgetMirrorsOverPersistentConnections() throws {
        let target = Fixture.scratch.at("mirror-\(UUID().uuidString)")
        let result = try run("wget", ["-d", "-r", "-np", "-nH", "-P", target, Fixture.server.base + "/site/"])
        for file in ["site/index.html", "site/a.html", "site/sub/b.html", "site/pic.bin"] {
            #expect(try sha256File(target + "/" + file) == sha256File(root + "/" + file), "\(file)")
        }
        let reused = result.stderr.components(separatedBy: "Reusing existing connection").count - 1
        // Five requests (robots.txt, index.html, a.html, sub/b.html, pic.bin): one connection.
        #expect(reused >= 4, "wget reused the connection \(reused) times")
    }

    @Test func everyRequestGetsItsOwnAccessLogLine() throws {
        let marker = UUID().uuidString
        let client = try RawClient(port: port, receiveTimeout: 10)
        for number in 1...3 {
            client.send(get("/a.txt?\(marker)-\(number)"))
            #expect(client.readResponse().bodyText == "alpha\n")
        }
        let logged = { Fixture.server.ferry.output.components(separatedBy: "\n").filter { $0.contains(marker) } }
        waitUntil(timeout: 5) { logged().count == 3 }
        #expect(logged().count == 3)
        #expect(logged().allSatisfy { $0.contains("\" 200 6 ") })
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let client = try RawClient(port: port, receiveTimeout: 10)
        client.send(get("/a.txt") + get("/b.txt", method: "HEAD") + get("/c.txt", ["Connection: close"]))
        let first = client.readResponse()
        let second = client.readResponse(hasBody: false)
        let third = client.readResponse()
        #expect(first.statusLine == "HTTP/1.1 200 OK")
        #expect(first.bodyText == "alpha\n")
        #expect(second.status == 200)
        #expect(second.field("Content-Length") == "6")
        #expect(third.bodyText == "charlie\n")
        #expect(third.field("Connection") == "close")
        #expect(client.serverClosed())
    }

    @Test func http10KeepsTheConnectionOnlyWhenAsked() throws {
        let kept = try RawClient(port: port, receiveTimeout: 10)
        kept.send("GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = kept.readResponse()
        #expect(first.statusLine == "HTTP/1.0 200 OK")
        #expect(first.field("Connection") == "keep-alive")
        kept.send("GET /b.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(kept.readResponse().bodyText == "bravo\n")

        let plain = try RawClient(port: port, receiveTimeout: 10)
        plain.send("GET /a.txt HTTP/1.0\r\n\r\n")
        let answer = plain.readResponse()
        #expect(answer.field("Connection") == "close")
        #expect(plain.serverClosed())
    }

    @Test func http11ConnectionCloseIsHonoured() throws {
        let client = try RawClient(port: port, receiveTimeout: 10)
        client.send(get("/a.txt", ["Connection: close"]))
        let response = client.readResponse()
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.field("Connection") == "close")
        #expect(client.serverClosed())
    }

    /// HEAD, 304, 404, 416, a redirect and a listing, one after another on one
    /// connection: each framed by its Content-Length (the 304 by having no body), so
    /// the next one parses.
    @Test func everyKindOfResponseIsFramedOnOneConnection() throws {
        let client = try RawClient(port: port, receiveTimeout: 10)
        client.send(get("/small.txt"))
        let full = client.readResponse()
        #expect(full.body.count == 1024)
        let etag = try #require(full.field("ETag"))

        client.send(get("/small.txt", method: "HEAD"))
        let head = client.readResponse(hasBody: false)
        #expect(head.status == 200 && head.field("Content-Length") == "1024")

        client.send(get("/small.txt", ["If-None-Match: \(etag)"]))
        let notModified = client.readResponse()
        #expect(notModified.status == 304)
        #expect(notModified.field("Content-Length") == nil)

        for (path, headers, status) in [("/missing", [String](), 404), ("/small.txt", ["Range: bytes=5000-"], 416),
                                        ("/dir", [], 301), ("/dir/", [], 200), ("/small.txt", ["Range: bytes=0-9"], 206)] {
            client.send(get(path, headers))
            let response = client.readResponse()
            #expect(response.status == status, "\(path)")
            #expect(response.field("Content-Length") == String(response.body.count), "\(path)")
            #expect(response.field("Connection") == nil, "\(path) keeps the connection")
        }
        client.send(get("/a.txt"))
        #expect(client.readResponse().bodyText == "alpha\n")
    }

    /// A body Ferry does not read ends the connection after the answer (lingering);
    /// a head framed two ways is refused, and what follows it is never answered.
    @Test func bodiesAndAmbiguousFramingCloseTheConnection() throws {
        let post = try RawClient(port: port, receiveTimeout: 10)
        post.send("POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        let refused = post.readResponse()
        #expect(refused.status == 405)
        #expect(refused.field("Connection") == "close")
        #expect(post.serverClosed())

        let smuggler = try RawClient(port: port, receiveTimeout: 10)
        smuggler.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
                      + "0\r\n\r\n" + get("/b.txt"))
        let answer = smuggler.response()
        #expect(answer.status == 400)
        #expect(answer.field("Connection") == "close")
        #expect(!answer.rawText.contains("bravo"))

        let twice = try RawClient(port: port, receiveTimeout: 10)
        twice.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n")
        #expect(twice.response().status == 400)
    }

    /// Responses written while an earlier one is unacknowledged must not wait on
    /// Nagle and the client's delayed ACK (40 ms each): 300 requests one after another
    /// and 100 pipelined would take 12 s and 4 s with that stall.
    @Test func noRequestWaitsOnNagle() throws {
        let client = try RawClient(port: port, receiveTimeout: 10)
        var start = Date()
        for _ in 0..<300 {
            client.send(get("/small.txt"))
            guard client.readResponse().body.count == 1024 else { Issue.record("short response"); return }
        }
        let sequential = seconds(since: start)
        start = Date()
        client.send(String(repeating: get("/small.txt"), count: 100))
        for _ in 0..<100 { _ = client.readResponse() }
        let pipelined = seconds(since: start)
        // In-memory answers (no cork to flush them) are where Nagle would bite.
        start = Date()
        client.send(String(repeating: get("/missing"), count: 100))
        for _ in 0..<100 { _ = client.readResponse() }
        let pipelinedErrors = seconds(since: start)
        #expect(sequential < 3, "300 sequential requests took \(sequential) s")
        #expect(pipelined < 1.5, "100 pipelined requests took \(pipelined) s")
        #expect(pipelinedErrors < 1.5, "100 pipelined 404s took \(pipelinedErrors) s")
    }
}

/// The limits of persistence, each on its own server.
@Suite(.fixture("keepalive-limits", serving: nil, site: KeepAliveSite.self))
struct KeepAliveLimitTests {
    var root: String { Fixture.scratch.at("root") }

    @Test func idleConnectionsCloseAfterTheKeepAliveTimeout() throws {
        let server = try FerryServer(["--keepalive-timeout", "1", root])
        defer { server.stop() }
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse().bodyText == "alpha\n")
        let start = Date()
        // Closed quietly: no 408 for a connection that was only idle.
        #expect(client.readAll().isEmpty)
        let waited = seconds(since: start)
        #expect(waited > 0.8 && waited < 5, "closed after \(waited) s")
    }

    @Test func keepAliveRequestsCapsTheRequestsPerConnection() throws {
        let server = try FerryServer(["--keepalive-requests", "3", root])
        defer { server.stop() }
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        for number in 1...3 {
            client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = client.readResponse()
            #expect(response.bodyText == "alpha\n")
            #expect(response.field("Connection") == (number == 3 ? "close" : nil), "response \(number)")
        }
        #expect(client.serverClosed())
    }

    /// Without TCP_CORK the head and the file body leave in two writes; the second
    /// must not wait for the ACK of the first (Nagle against a delayed ACK: 40 ms per
    /// request, fasthttp#931), so kept connections get TCP_NODELAY.
    @Test func headAndBodyWrittenApartDoNotStall() throws {
        let server = try FerryServer(["--no-cork", root])
        defer { server.stop() }
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        let start = Date()
        for _ in 0..<200 {
            client.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            guard client.readResponse().body.count == 1024 else { Issue.record("short response"); return }
        }
        let elapsed = seconds(since: start)
        #expect(elapsed < 2, "200 requests took \(elapsed) s")
    }

    /// SIGTERM closes a connection idle between requests at once, whichever model
    /// holds it; waiting out its keep-alive timeout (15 s) would hold the shutdown.
    @Test(arguments: ["prefork-pass-epoll", "prefork-pass", "epoll", "fork", "thread", "prethread",
                      "prefork-accept", "iterative"])
    func sigtermClosesIdleKeptConnectionsAtOnce(model: String) throws {
        let server = try FerryServer(["--model", model, "--access-log", "off", root])
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponse().bodyText == "alpha\n", "\(model)")
        let start = Date()
        let stopped = server.stop(timeout: 20)
        let elapsed = seconds(since: start)
        #expect(stopped.status == 0, "\(model): \(stopped.stderr)")
        #expect(elapsed < 3, "\(model) took \(elapsed) s to stop")
        #expect(client.serverClosed(), "\(model)")
    }

    /// --minimal-http10 answers as Ferry did before persistent connections: HTTP/1.0,
    /// Connection: close, one request per connection, even to HTTP/1.1 with keep-alive.
    @Test func minimalHTTP10ModeClosesEveryConnection() throws {
        let server = try FerryServer(["--minimal-http10", root])
        defer { server.stop() }
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\nGET /b.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = client.response()
        #expect(response.statusLine == "HTTP/1.0 200 OK")
        #expect(response.field("Connection") == "close")
        #expect(response.bodyText == "alpha\n", "the pipelined second request is not answered")
        let curl = try run("curl", ["-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n",
                                    server.base + "/a.txt", server.base + "/b.txt"])
        #expect(curl.text == "1\n1\n")
    }
}
