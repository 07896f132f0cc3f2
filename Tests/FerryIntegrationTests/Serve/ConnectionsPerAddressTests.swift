import Foundation
import Testing

private enum PerAddressSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/small.txt", "small\n")
    }
}

/// max_connections_per_address, seen from outside with clients bound to 127.0.0.1 and
/// 127.0.0.2 (loopback answers on all of 127/8): the address at the limit gets the
/// parent's 503, another address is served; a closed connection frees its place
/// within a loop iteration, a killed worker frees all of its own; ::1 counts too;
/// SIGHUP changes the limit and keeps the counts; the models without a counting
/// parent refuse the setting.
@Suite(.serialized, .fixture("peraddr", serving: nil, site: PerAddressSite.self))
struct ConnectionsPerAddressTests {
    /// A persistent connection from `source` to `host`: one request answered, then
    /// part of the next head, so the connection stays held, busy reading (a reload's
    /// retiring worker keeps it rather than closing it as idle). nil when the first
    /// answer is not 200 (the connection was refused).
    static func hold(_ port: Int, host: String = "127.0.0.1", from source: String? = nil) throws -> RawClient? {
        let client = try RawClient(port: port, host: host, from: source, receiveTimeout: 5)
        client.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        guard client.readHead().status == 200, client.read(count: 6) == Array("small\n".utf8) else { return nil }
        client.send("GET /small.txt HTTP/1.1\r\n")
        return client
    }

    /// `count` held connections, each required to be served.
    static func hold(_ count: Int, _ port: Int, host: String = "127.0.0.1", from source: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [RawClient] {
        try (0..<count).map { _ in
            try #require(try hold(port, host: host, from: source), sourceLocation: sourceLocation)
        }
    }

    /// One HTTP/1.0 request on a new connection from `source`; the response read to the close.
    static func oneRequest(_ port: Int, host: String = "127.0.0.1", from source: String? = nil) throws -> HTTPResponseText {
        let client = try RawClient(port: port, host: host, from: source, receiveTimeout: 5)
        client.send("GET /small.txt HTTP/1.0\r\n\r\n")
        return client.response()
    }

    /// Ends held connections (the server sees end of stream and closes them at once,
    /// so a stop does not wait for their heads to time out).
    static func release(_ clients: [RawClient]) {
        for client in clients { shutdown(client.fd, Int32(SHUT_RDWR)) }
    }

    static func expectOverloadAnswer(_ response: HTTPResponseText, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == 503, "\(response.rawText)", sourceLocation: sourceLocation)
        #expect(response.field("Retry-After") == "1", sourceLocation: sourceLocation)
        #expect(response.field("Connection") == "close", sourceLocation: sourceLocation)
        #expect(response.field("Content-Length") == String(response.body.count), sourceLocation: sourceLocation)
    }

    /// Three held from 127.0.0.1: a fourth gets 503 at once; 127.0.0.2 is served and
    /// may hold three of its own; the held ones are still answered; one of them closing
    /// lets exactly one more in, within a moment.
    @Test func theAddressAtTheLimitGets503AndAnotherIsServed() throws {
        let server = try FerryServer(["--max-connections-per-address", "3", "--workers", "2", Fixture.scratch.root])
        defer { server.stop() }
        let held = try Self.hold(3, server.port, from: "127.0.0.1")

        let start = Date()
        let refused = try Self.oneRequest(server.port, from: "127.0.0.1")
        #expect(seconds(since: start) < 1)
        Self.expectOverloadAnswer(refused)
        #expect(server.ferry.waitForErrors("127.0.0.1 holds 3 connections (max_connections_per_address)", timeout: 5),
                "\(server.ferry.errors)")

        let others = try Self.hold(3, server.port, from: "127.0.0.2")
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, from: "127.0.0.2"))
        for client in held + others {
            client.send("Host: x\r\n\r\n")
            #expect(client.readHead().status == 200)
            #expect(client.read(count: 6) == Array("small\n".utf8))
            client.send("GET /small.txt HTTP/1.1\r\n")
        }

        // The worker reports the close at the end of that loop iteration; the parent
        // frees the place.
        shutdown(held[0].fd, Int32(SHUT_WR))
        let closed = Date()
        var replacement: RawClient?
        #expect(waitUntil(timeout: 5) {
            replacement = try? Self.hold(server.port, from: "127.0.0.1")
            return replacement != nil
        })
        #expect(seconds(since: closed) < 1, "the place came free after \(seconds(since: closed)) s")
        // Exactly one: two held and the replacement make the limit again.
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, from: "127.0.0.1"))
        Self.release(held + others + (replacement.map { [$0] } ?? []))
    }

    /// A worker killed while holding an address's connections: the parent forgets
    /// them with the worker, so the address is served again by the replacement.
    @Test func aKilledWorkerDoesNotLeaveItsAddressBlocked() throws {
        let server = try FerryServer(["--max-connections-per-address", "2", "--workers", "1", Fixture.scratch.root])
        defer { server.stop() }
        let held = try Self.hold(2, server.port, from: "127.0.0.1")
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, from: "127.0.0.1"))

        let worker = try #require(server.workers(atLeast: 1).first)
        kill(worker, SIGKILL)
        #expect(server.ferry.waitForErrors("(2 connections lost); starting a new one", timeout: 10), "\(server.ferry.errors)")
        #expect(waitUntil(timeout: 10) { (try? Self.oneRequest(server.port, from: "127.0.0.1").status) == 200 })
        for client in held { #expect(client.readAllNotingError().bytes.isEmpty, "the killed worker's connections are gone") }
    }

    /// IPv6 counts too: ::1 (its /64) at the limit is refused while 127.0.0.1 is served.
    @Test func ipv6LoopbackCountsAsOneAddress() throws {
        let server = try FerryServer(["--host", "localhost", "--max-connections-per-address", "2", "--workers", "2",
                                      Fixture.scratch.root])
        defer { server.stop() }
        let held = try Self.hold(2, server.port, host: "::1")
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, host: "::1"))
        #expect(server.ferry.waitForErrors("::/64 holds 2 connections", timeout: 5), "\(server.ferry.errors)")
        #expect(try Self.oneRequest(server.port, host: "127.0.0.1").status == 200)
        Self.release(held)
    }

    /// SIGHUP applies a new limit to new connections at once and keeps the counts: the
    /// connections the retiring workers still hold go on counting.
    @Test func aReloadChangesTheLimitAndKeepsTheCounts() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, "[server]\nworkers = 1\nmax_connections_per_address = 2\n")
        let server = try FerryServer(["--config", config, scratch.root])
        defer { server.stop() }
        let held = try Self.hold(2, server.port, from: "127.0.0.1")
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, from: "127.0.0.1"))

        try scratch.write(URL(fileURLWithPath: config).lastPathComponent,
                          "[server]\nworkers = 1\nmax_connections_per_address = 3\n")
        kill(server.pid, SIGHUP)
        #expect(server.ferry.waitForErrors("ferry: reloaded ", timeout: 10), "\(server.ferry.errors)")
        let third = try Self.hold(1, server.port, from: "127.0.0.1")
        Self.expectOverloadAnswer(try Self.oneRequest(server.port, from: "127.0.0.1"))
        #expect(try Self.oneRequest(server.port, from: "127.0.0.2").status == 200)
        Self.release(held + third)
    }

    /// A model without a parent that sees every connection refuses the setting at start
    /// (one line naming the flag or the key, the model that applies it, exit code 2),
    /// and a prefork-pass reload that would turn it on fails and changes nothing.
    @Test(arguments: ["prefork-pass", "epoll", "thread"])
    func otherModelsRefuseTheSetting(model: String) throws {
        let scratch = Fixture.scratch
        let byFlag = try FerryProcess(["serve", "--port", "0", "--model", model, "--max-connections-per-address", "3",
                                       scratch.root])
        let flagRun = byFlag.wait(timeout: 20)
        #expect(flagRun.status == 2)
        #expect(flagRun.stderr == "ferry: --max-connections-per-address: the \(model) model does not limit connections "
                + "per address (prefork-pass-epoll does): set it to 0, or use --model prefork-pass-epoll\n")

        let config = try configFile(scratch, "[server]\nmax_connections_per_address = 3\n")
        let byFile = try FerryProcess(["serve", "--port", "0", "--config", config, "--model", model, scratch.root])
        let fileRun = byFile.wait(timeout: 20)
        #expect(fileRun.status == 2)
        #expect(fileRun.stderr.hasPrefix("ferry: [server] max_connections_per_address: the \(model) model"), "\(fileRun.stderr)")
        #expect(fileRun.stderr.split(separator: "\n").count == 1)

        guard model == "prefork-pass" else { return }
        let reloadable = try configFile(scratch, "[server]\nworkers = 1\n")
        let server = try FerryServer(["--config", reloadable, "--model", model, scratch.root])
        defer { server.stop() }
        try scratch.write(URL(fileURLWithPath: reloadable).lastPathComponent,
                          "[server]\nworkers = 1\nmax_connections_per_address = 3\n")
        kill(server.pid, SIGHUP)
        #expect(server.ferry.waitForErrors("ferry: reload failed: [server] max_connections_per_address: the prefork-pass "
                                           + "model does not limit", timeout: 10), "\(server.ferry.errors)")
        #expect(try request(server.port, "/small.txt").status == 200)
    }
}
