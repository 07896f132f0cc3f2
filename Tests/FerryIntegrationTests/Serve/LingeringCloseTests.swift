import Foundation
import Testing

private enum LingerSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.random("root/two-mib.bin", bytes: 2 << 20)
        try scratch.write("root/small.txt", "small\n")
    }
}

/// When the client sent or announced more than the head (a body, pipelined requests),
/// closing with those bytes unread makes the kernel send a RST, which destroys
/// whatever part of the response the client has not read yet. The server must shut
/// down writing and drain instead. These tests send such bytes at the moments that
/// hurt (with the head, right behind it, after the response has begun), then read
/// late, and check that the whole response arrives, ended by FIN, not RST.
@Suite(.fixture("linger", site: LingerSite.self))
struct LingeringCloseTests {
    var port: Int { Fixture.server.port }

    enum Moment: String, CaseIterable {
        /// In the same write as the head.
        case withTheHead
        /// In a second write right behind the head.
        case rightBehind
        /// Once the response head has arrived.
        case afterTheResponseBegan
    }

    /// Sends `head` and `extra` (which the server never reads) at `moment`, waits
    /// while the server finishes, then reads the whole response; returns it and the
    /// errno that ended the read (0 for FIN).
    func fetch(head: String, extra: [UInt8], at moment: Moment) throws -> (response: HTTPResponseText, error: Int32) {
        let client = try RawClient(port: port, receiveTimeout: 10)
        var received: [UInt8] = []
        switch moment {
        case .withTheHead:
            client.send(Array(head.utf8) + extra)
        case .rightBehind:
            client.send(head)
            client.send(extra)
        case .afterTheResponseBegan:
            client.send(head)
            received = client.readHead().raw
            client.send(extra)
        }
        // Time for the server to queue the rest of the response and close.
        usleep(300_000)
        let rest = client.readAllNotingError()
        return (HTTPResponseText(received + rest.bytes), rest.error)
    }

    func expectWhole(_ result: (response: HTTPResponseText, error: Int32), _ comment: String) throws {
        #expect(result.error == 0, "\(comment): the read ended with \(String(cString: strerror(result.error)))")
        #expect(result.response.status == 200, "\(comment)")
        #expect(result.response.body.count == 2 << 20, "\(comment)")
        // Hashes, not arrays: a failed comparison of two 2 MiB arrays would make
        // Swift Testing compute their difference, which takes forever.
        #expect(try sha256(result.response.body) == Fixture.scratch.sha256("root/two-mib.bin"), "\(comment)")
    }

    @Test(arguments: Moment.allCases)
    func requestWithABodyGetsTheWholeResponse(moment: Moment) throws {
        let body = [UInt8](repeating: UInt8(ascii: "b"), count: 64 * 1024)
        let head = "GET /two-mib.bin HTTP/1.0\r\nContent-Length: \(body.count)\r\n\r\n"
        try expectWhole(try fetch(head: head, extra: body, at: moment), "body \(moment)")
    }

    /// Pipelined requests that arrive with the head are seen, so the server lingers.
    /// Unannounced bytes sent only after the server has queued its response are
    /// not waited for (nginx's choice too): lingering after every response would cost
    /// about a fifth of the small-file request rate, and an HTTP/1.0 client told
    /// `Connection: close` has no business sending more.
    @Test func pipelinedRequestsGetTheFirstResponseWhole() throws {
        let pipelined = Array(String(repeating: "GET /small.txt HTTP/1.0\r\n\r\n", count: 2000).utf8)
        let moment = Moment.withTheHead
        let result = try fetch(head: "GET /two-mib.bin HTTP/1.0\r\n\r\n", extra: pipelined, at: moment)
        try expectWhole(result, "pipelined \(moment)")
        // One response per connection: the pipelined requests are not answered.
        #expect(!result.response.rawText.contains("small\n"))
    }

    /// Extra bytes in the same segment as the head: the error page of a refused
    /// request still arrives whole.
    @Test func refusedRequestWithABodyGetsItsErrorPage() throws {
        let client = try RawClient(port: port, receiveTimeout: 10)
        client.send("POST /small.txt HTTP/1.0\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "p", count: 100_000))
        usleep(200_000)
        let (bytes, error) = client.readAllNotingError()
        let response = HTTPResponseText(bytes)
        #expect(error == 0, "read ended with \(String(cString: strerror(error)))")
        #expect(response.status == 405)
        #expect(response.field("Content-Length") == String(response.body.count))
    }

    /// A client that keeps the connection open (and silent) after its extra bytes
    /// does not hold the worker for long: draining is bounded (about 2 s). With one
    /// worker, the next request waits exactly as long as the drain.
    @Test func drainingIsBounded() throws {
        let server = try FerryServer(["--workers", "1", "--max-workers", "1", Fixture.scratch.root])
        defer { server.stop() }
        let silent = try RawClient(port: server.port, receiveTimeout: 15)
        silent.send("GET /small.txt HTTP/1.0\r\nContent-Length: 1000000\r\n\r\npartial body")
        #expect(HTTPResponseText(silent.readAll()).bodyText == "small\n")
        let start = Date()
        #expect(try request(server.port, "/small.txt").status == 200)
        let elapsed = seconds(since: start)
        #expect(elapsed < 5, "the next request waited \(elapsed) s")
        withExtendedLifetime(silent) {}
    }
}
