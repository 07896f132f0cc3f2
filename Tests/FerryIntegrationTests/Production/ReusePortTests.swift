import Foundation
import Testing

private enum ReusePortSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/index.html", "<!DOCTYPE html><title>shared port</title>\n")
    }
}

/// Several instances on one port (`--reuse-port`): both start, the kernel spreads
/// connections over them, and one can be stopped while the other keeps serving.
@Suite(.serialized, .fixture("reuse-port", serving: nil, site: ReusePortSite.self))
struct ReusePortTests {
    var scratch: Scratch { Fixture.scratch }

    /// Access log lines a server printed for GET /.
    static func requestsServed(_ server: FerryServer) -> Int {
        server.ferry.output.split(separator: "\n").filter { $0.contains("\"GET / HTTP/1.0\" 200") }.count
    }

    @Test func withoutItASecondInstanceCannotListen() throws {
        let first = try FerryServer(["--workers", "1", scratch.root])
        defer { first.stop() }
        let second = try run(ferryBinary, ["serve", "--host", "127.0.0.1", "--port", "\(first.port)", scratch.root],
                             timeout: 30)
        #expect(second.status == 1)
        #expect(second.stderr == "ferry: cannot listen on 127.0.0.1 port \(first.port): bind 127.0.0.1:\(first.port): "
                + "Address already in use (choose another with --port, or --port 0 for any free port)\n")
    }

    @Test func twoInstancesShareAPortAndOneStopsWhileTheOtherServes() throws {
        let first = try FerryServer(["--reuse-port", "--workers", "1", scratch.root])
        defer { first.stop() }
        let second = try FerryServer(["--reuse-port", "--workers", "1", "--port", "\(first.port)", scratch.root])
        defer { second.stop() }
        #expect(second.port == first.port)
        // A new connection (new source port) each: the kernel hashes them over both.
        let before = try (0..<40).map { _ in try request(first.port, "/").status }
        #expect(before == Array(repeating: 200, count: 40))
        #expect(waitUntil(timeout: 5) { Self.requestsServed(first) + Self.requestsServed(second) == 40 })
        #expect(Self.requestsServed(first) > 0)
        #expect(Self.requestsServed(second) > 0)

        let servedBySecond = Self.requestsServed(second)
        let stopped = first.stop()
        #expect(stopped.status == 0)
        let after = try (0..<40).map { _ in try request(second.port, "/").status }
        #expect(after == Array(repeating: 200, count: 40))
        #expect(waitUntil(timeout: 5) { Self.requestsServed(second) == servedBySecond + 40 })
    }

    /// Connections the kernel queued to an instance that was paused (SIGSTOP) when it
    /// is told to stop: on waking it takes its whole backlog in the same wakeup,
    /// before it handles SIGTERM and closes the listener, so none is reset.
    @Test func connectionsQueuedToAStoppingInstanceAreAnswered() throws {
        let first = try FerryServer(["--reuse-port", "--workers", "1", scratch.root])
        defer { first.stop() }
        let second = try FerryServer(["--reuse-port", "--workers", "1", "--port", "\(first.port)", scratch.root])
        defer { second.stop() }
        kill(first.pid, SIGSTOP)
        let clients = try (0..<40).map { _ in try RawClient(port: first.port) }
        clients.forEach { $0.send("GET / HTTP/1.0\r\n\r\n") }
        usleep(200_000)
        kill(first.pid, SIGTERM)
        kill(first.pid, SIGCONT)
        let statuses = clients.map { $0.response().status }
        #expect(statuses == Array(repeating: 200, count: 40))
        let stopped = first.stop()
        #expect(stopped.status == 0)
        // Some of the 40 were hashed to the paused instance (all 40 avoiding it: 2^-40).
        #expect(stopped.stdout.contains("\"GET / HTTP/1.0\" 200"))
    }
}
