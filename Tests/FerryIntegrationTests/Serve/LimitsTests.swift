import Foundation
import Testing

private enum LimitsSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/file.txt", "small\n")
        try scratch.sparse("root/large.bin", size: 64 << 20)
    }
}

/// The request-head limits (414, 431, 408) at their defaults and from the config
/// file, the cookie size browsers really send, and the send timeout.
@Suite(.fixture("limits", site: LimitsSite.self))
struct LimitsTests {
    var port: Int { Fixture.server.port }

    /// A request line of exactly `length` bytes (without CRLF) for a missing file.
    func requestLine(length: Int) -> String {
        let fixed = "GET / HTTP/1.0".utf8.count
        return "GET /" + String(repeating: "a", count: length - fixed) + " HTTP/1.0"
    }

    /// 8 KiB is the longest request line; one byte more is 414.
    @Test func requestLineLimit() throws {
        let atLimit = try exchange(port, requestLine(length: 8192) + "\r\n\r\n")
        #expect(atLimit.status == 404)
        let overLimit = try exchange(port, requestLine(length: 8193) + "\r\n\r\n")
        #expect(overLimit.status == 414)
        #expect(overLimit.statusLine == "HTTP/1.1 414 URI Too Long")  // refused heads are answered in 1.1
        // Without a line end at all: the server must not wait for one.
        let client = try RawClient(port: port, receiveTimeout: 5)
        client.send("GET /" + String(repeating: "b", count: 20_000))
        #expect(client.response().status == 414)
    }

    /// 16 KiB of header section or 101 fields is 431.
    @Test func headerSectionLimits() throws {
        let big = try request(port, "/file.txt", headers: ["X-Big: " + String(repeating: "b", count: 17 * 1024)])
        #expect(big.status == 431)
        #expect(big.statusLine == "HTTP/1.1 431 Request Header Fields Too Large")
        let spread = try request(port, "/file.txt", headers: (0..<20).map { "X-F\($0): " + String(repeating: "s", count: 900) })
        #expect(spread.status == 431)

        let hundred = try request(port, "/file.txt", headers: (0..<100).map { "X-Field-\($0): \($0)" })
        #expect(hundred.status == 200)
        let hundredAndOne = try request(port, "/file.txt", headers: (0..<101).map { "X-Field-\($0): \($0)" })
        #expect(hundredAndOne.status == 431)
    }

    /// A browser with large cookies must still be served: a 4,000-byte limit broke
    /// real users (cozystack#602, homer#162).
    @Test func largeCookieIsAccepted() throws {
        let cookie = (0..<48).map { "c\($0)=" + String(repeating: "v", count: 250) }.joined(separator: "; ")
        #expect(cookie.utf8.count > 12_000)
        let response = try request(port, "/file.txt", headers: ["Host: 127.0.0.1", "Cookie: \(cookie)",
                                                                 "User-Agent: Mozilla/5.0 (X11; Linux x86_64)"])
        #expect(response.status == 200)
        #expect(response.bodyText == "small\n")
        // Through curl as well.
        let curl = try run("curl", ["-sS", "-f", "-H", "Cookie: \(cookie)", Fixture.server.base + "/file.txt"])
        #expect(curl.status == 0)
        #expect(curl.text == "small\n")
    }

    /// The limits come from [limits] in the config file.
    @Test func limitsFromTheConfigFile() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, "[limits]\nrequest_line = 256\nheader_bytes = 1024\nheader_fields = 5\n")
        let server = try FerryServer(["--config", config, scratch.root])
        defer { server.stop() }
        #expect(try exchange(server.port, requestLine(length: 256) + "\r\n\r\n").status == 404)
        #expect(try exchange(server.port, requestLine(length: 257) + "\r\n\r\n").status == 414)
        #expect(try request(server.port, "/file.txt", headers: (0..<5).map { "X-\($0): v" }).status == 200)
        #expect(try request(server.port, "/file.txt", headers: (0..<6).map { "X-\($0): v" }).status == 431)
        #expect(try request(server.port, "/file.txt", headers: ["X: " + String(repeating: "x", count: 1100)]).status == 431)
    }

    /// A head trickling in one byte per second gets 408 when head_timeout (2 s here)
    /// runs out: progress does not extend the deadline.
    @Test func slowHeadGets408() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, "[limits]\nhead_timeout = 2\n")
        let server = try FerryServer(["--config", config, scratch.root])
        defer { server.stop() }

        let client = try RawClient(port: server.port, receiveTimeout: 10)
        let start = Date()
        var answered = false
        for byte in "GET /file.txt HTTP/1.0\r\nX-Slow: yes\r\n\r\n".utf8 {
            client.send([byte])
            var ready = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
            if poll(&ready, 1, 1000) > 0 { answered = true; break }
            if seconds(since: start) > 8 { break }
        }
        let elapsed = seconds(since: start)
        let response = client.response()
        #expect(answered)
        #expect(response.status == 408)
        #expect(response.statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(elapsed > 1.5 && elapsed < 6, "408 after \(elapsed) s")
        // The worker is free again.
        #expect(try request(server.port, "/file.txt").status == 200)
    }

    /// A client that stops reading is dropped once send_timeout passes without
    /// progress (1 s here), and the worker serves the next request.
    @Test func stalledReaderIsDropped() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, "[limits]\nsend_timeout = 1\n")
        let server = try FerryServer(["--config", config, "--workers", "1", "--max-workers", "1", scratch.root])
        defer { server.stop() }

        // The client does not read: its receive buffer and the server's send buffer
        // (a few MiB together) fill, and the server's sends stop making progress.
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /large.bin HTTP/1.0\r\n\r\n")
        #expect(server.ferry.waitForErrors("no send progress", timeout: 10))
        let start = Date()
        let received = client.readAllNotingError()
        #expect(seconds(since: start) < 5, "the connection was closed, not left open")
        #expect(received.bytes.count < 64 << 20)
        // The one worker is free for the next client.
        #expect(try request(server.port, "/file.txt").status == 200)
    }

    /// TCP_DEFER_ACCEPT: a connection that sends nothing stays with the kernel and
    /// does not take the only worker of classic prefork-pass from the next client. The control, with
    /// defer_accept = 0, shows what it prevents: the next client waits until the
    /// silent one's head_timeout (2 s) runs out.
    @Test func silentConnectionsDoNotOccupyAWorker() throws {
        let scratch = Fixture.scratch
        func secondClientWait(config toml: String) throws -> Double {
            let config = try configFile(scratch, toml)
            let server = try FerryServer(["--config", config, "--model", "prefork-pass", "--workers", "1",
                                          "--max-workers", "1", scratch.root])
            defer { server.stop() }
            let silent = try RawClient(port: server.port)
            usleep(200_000)
            let start = Date()
            #expect(try request(server.port, "/file.txt").status == 200)
            withExtendedLifetime(silent) {}
            return seconds(since: start)
        }
        let deferred = try secondClientWait(config: "[server]\ndefer_accept = 5\n[limits]\nhead_timeout = 2\n")
        #expect(deferred < 1, "with TCP_DEFER_ACCEPT the next client waited \(deferred) s")
        let control = try secondClientWait(config: "[server]\ndefer_accept = 0\n[limits]\nhead_timeout = 2\n")
        #expect(control > 1.5, "without TCP_DEFER_ACCEPT the next client waited only \(control) s")
    }
}
