import Foundation
import Testing

private enum PoolSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/small.txt", "small\n")
    }
}

/// prefork-pass-epoll, the default process model, seen from outside: connections
/// spread over the workers; trickling clients cost descriptors, not workers (and
/// stop classic prefork-pass cold); max_connections answers 503 without touching the
/// connections held; the descriptor limit is raised, and a cap it cannot hold is
/// refused; SIGTERM answers a request already on its way on a kept connection, then
/// closes idle connections. Serialized: the slow-client test measures a normal
/// client's latency.
@Suite(.serialized, .fixture("pool", serving: nil, site: PoolSite.self))
struct EventDrivenPoolTests {
    /// The worker lines of an exit report: label → (connections, requests).
    static func workerCounts(_ report: String) -> [String: (connections: Int, requests: Int)] {
        var counts: [String: (Int, Int)] = [:]
        for line in report.split(separator: "\n") where line.hasPrefix("worker ") {
            let words = line.split(separator: " ")
            guard words.count > 4, let connections = Int(words[2]), let requests = Int(words[4]) else { continue }
            counts[String(words[0] + " " + words[1].dropLast())] = (connections, requests)
        }
        return counts
    }

    /// A config that makes silent connections reach the server at once.
    static func noDeferAccept(_ scratch: Scratch, _ extra: String = "") throws -> String {
        try configFile(scratch, "[server]\ndefer_accept = 0\n" + extra)
    }

    @Test func connectionsSpreadOverTheWorkersAndRequestsAreCounted() throws {
        let server = try FerryServer(["--workers", "2", Fixture.scratch.root])
        // One at a time (ties rotate), then 20 at once (the fewest-held worker takes each).
        for _ in 0..<6 {
            let pair = try run("curl", ["-sS", "--fail", "-o", "/dev/null", "-o", "/dev/null",
                                        server.base + "/small.txt", server.base + "/small.txt"])
            #expect(pair.status == 0, "\(pair.stderr)")
        }
        let clients = try (0..<20).map { _ in try RawClient(port: server.port) }
        for client in clients { client.send("GET /small.txt HTTP/1.0\r\n\r\n") }
        #expect(clients.map { $0.response().status } == Array(repeating: 200, count: 20))
        let (status, stdout, _) = server.stop()
        #expect(status == 0)
        let counts = Self.workerCounts(stdout)
        #expect(counts.count == 2, "\(stdout)")
        #expect(counts.values.map(\.connections).reduce(0, +) == 26, "\(stdout)")
        #expect(counts.values.allSatisfy { $0.connections >= 8 }, "one worker got nearly everything: \(stdout)")
        // curl asked twice on each of its six connections.
        #expect(stdout.contains("total: 26 connections, 32 requests, "), "\(stdout)")
    }

    /// 300 connections that send a request line and then a header line every 1.5 s
    /// (a slowloris attack) against two workers: under prefork-pass-epoll a normal
    /// client asking every 100 ms is answered every time, promptly; classic
    /// prefork-pass, one connection per worker, gives it no answer at all.
    @Test(arguments: ["prefork-pass-epoll", "prefork-pass"])
    func tricklingClientsDoNotHoldTheWorkers(model: String) throws {
        let server = try FerryServer(["--model", model, "--workers", "2", "--max-workers", "8",
                                      "--access-log", "off", Fixture.scratch.root])
        defer { server.stop(signal: SIGKILL) }
        let attackers = try (0..<300).map { _ in try RawClient(port: server.port, receiveTimeout: 5) }
        for attacker in attackers { attacker.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n") }
        let trickle = Background { () -> Void in
            for round in 0..<4 {
                usleep(1_500_000)
                for attacker in attackers { attacker.send("X-Trickle-\(round): 1\r\n") }
            }
        }
        usleep(300_000)

        var latencies: [Double] = []
        var unanswered = 0
        let end = Date().addingTimeInterval(model == "prefork-pass" ? 3 : 5)
        while Date() < end {
            let start = Date()
            let client = try RawClient(port: server.port, receiveTimeout: 2)
            client.send("GET /small.txt HTTP/1.0\r\n\r\n")
            if client.response().status == 200 { latencies.append(seconds(since: start)) } else { unanswered += 1 }
            usleep(100_000)
        }
        try trickle.value(timeout: 20)
        if model == "prefork-pass" {
            #expect(latencies.isEmpty, "classic prefork-pass answered beside 300 trickling connections: \(latencies)")
            #expect(server.workerPIDs().count == 8, "the pool grew to --max-workers, every worker held")
        } else {
            #expect(unanswered == 0)
            #expect(latencies.count >= 20)
            #expect((latencies.max() ?? 9) < 1, "slowest answer \(latencies.max() ?? 0) s")
            #expect(server.workerPIDs().count == 2, "the pool does not grow")
        }
        withExtendedLifetime(attackers) {}
    }

    /// Above --max-connections a new connection gets a complete 503 with Retry-After
    /// and is closed; the connections held go on and are answered; once they have
    /// closed, new connections are served again.
    @Test func maxConnectionsAnswers503AndSparesTheHeld() throws {
        let scratch = Fixture.scratch
        let server = try FerryServer(["--config", try Self.noDeferAccept(scratch), "--max-connections", "4",
                                      "--workers", "2", scratch.root])
        defer { server.stop() }
        let held = try (0..<4).map { _ in try RawClient(port: server.port) }
        for client in held { client.send("GET /small.txt HTTP/1.0\r\n") }
        usleep(300_000)

        let start = Date()
        let refused = try request(server.port, "/small.txt")
        #expect(seconds(since: start) < 1)
        #expect(refused.status == 503, "\(refused.rawText)")
        #expect(refused.field("Retry-After") == "1")
        #expect(refused.field("Connection") == "close")
        #expect(refused.field("Content-Length") == String(refused.body.count))
        #expect(server.ferry.waitForErrors("max_connections", timeout: 5), "\(server.ferry.errors)")

        for client in held { client.send("\r\n") }
        for client in held {
            let response = client.response()
            #expect(response.status == 200)
            #expect(response.bodyText == "small\n")
        }
        #expect(waitUntil(timeout: 5) { (try? request(server.port, "/small.txt").status) == 200 })
    }

    /// The soft descriptor limit is raised to the hard one; a max_connections the hard
    /// limit cannot hold beside the open-file cache is refused with what to raise, and
    /// the defaults are lowered: the cache's to a quarter of a small limit.
    @Test func descriptorLimitIsRaisedAndMaxConnectionsChecked() throws {
        let scratch = Fixture.scratch
        let raised = try FerryServer(["--workers", "1", scratch.root], launcher: ["prlimit", "--nofile=512:4096", "--"])
        let limits = try String(contentsOfFile: "/proc/\(raised.pid)/limits", encoding: .utf8)
        #expect(limits.split(separator: "\n").contains {
            $0.hasPrefix("Max open files") && $0.split(separator: " ").contains("4096") && !$0.contains("512")
        }, "\(limits)")
        // 4096 less 64 reserved less the cache's 1,024 (a quarter of 4096: kept).
        #expect(raised.ferry.errors.contains("max_connections lowered from 16384 to 3008"), "\(raised.ferry.errors)")
        #expect(!raised.ferry.errors.contains("open_files"), "\(raised.ferry.errors)")
        #expect(try request(raised.port, "/small.txt").status == 200)
        raised.stop()

        let small = try FerryServer(["--workers", "1", scratch.root], launcher: ["prlimit", "--nofile=1024", "--"])
        #expect(small.ferry.errors.contains("[cache] open_files lowered from 1024 to 256 to fit the descriptor limit of 1024"),
                "\(small.ferry.errors)")
        #expect(small.ferry.errors.contains("max_connections lowered from 16384 to 704"), "\(small.ferry.errors)")
        #expect(try request(small.port, "/small.txt").status == 200)
        small.stop()
        let uncached = try FerryServer(["--workers", "1", "--no-file-cache", scratch.root],
                                       launcher: ["prlimit", "--nofile=1024", "--"])
        #expect(uncached.ferry.errors.contains("max_connections lowered from 16384 to 960"), "\(uncached.ferry.errors)")
        #expect(!uncached.ferry.errors.contains("open_files"), "\(uncached.ferry.errors)")
        uncached.stop()

        let refused = try run("prlimit", ["--nofile=256", "--", ferryBinary, "serve", "--port", "0",
                                          "--max-connections", "1000", scratch.root], timeout: 20)
        #expect(refused.status == 2)
        let lines = refused.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("max_connections 1000") && refused.stderr.contains("ulimit -n 1128")
                && refused.stderr.contains("LimitNOFILE=1128") && refused.stderr.contains("open_files keeps 64"),
                "\(refused.stderr)")
    }

    /// SIGTERM with connections that sent nothing yet and kept-alive ones between
    /// requests: all are idle, closed once the retirement's second has passed, and
    /// the server exits well within the drain timeout (30 s).
    @Test func sigtermClosesIdleConnectionsWithinASecond() throws {
        let scratch = Fixture.scratch
        let server = try FerryServer(["--config", try Self.noDeferAccept(scratch), "--workers", "2", scratch.root])
        let silent = try (0..<20).map { _ in try RawClient(port: server.port, receiveTimeout: 10) }
        let kept = try (0..<5).map { _ in try RawClient(port: server.port, receiveTimeout: 10) }
        for client in kept {
            client.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(client.readHead().status == 200)
            _ = client.read(count: 6)
        }
        usleep(200_000)
        let start = Date()
        let (status, stdout, stderr) = server.stop(signal: SIGTERM, timeout: 20)
        #expect(seconds(since: start) < 3, "\(stderr)")
        #expect(status == 0)
        #expect(stdout.contains("total: 25 connections, 5 requests, "), "\(stdout)")
        for client in silent + kept { #expect(client.readAllNotingError().bytes.isEmpty) }
    }

    /// A request sent on a kept connection just after SIGTERM, as a balancer reusing
    /// its connections does, is answered (the connection's last, `Connection: close`)
    /// rather than met by a close: the drain retires the workers as a reload does.
    @Test func aRequestOnAKeptConnectionJustAfterSigtermIsAnswered() throws {
        let server = try FerryServer(["--workers", "1", "--access-log", "off", Fixture.scratch.root])
        defer { server.stop() }
        let kept = try RawClient(port: server.port, receiveTimeout: 10)
        kept.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(kept.readHead().status == 200)
        _ = kept.read(count: 6)
        kill(server.pid, SIGTERM)
        #expect(server.ferry.waitForErrors("SIGTERM: no longer accepting", timeout: 10))
        usleep(100_000)
        kept.send("GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let last = kept.response()
        #expect(last.status == 200 && last.bodyText == "small\n", "\(last.rawText)")
        #expect(last.field("Connection") == "close")
        #expect(server.ferry.wait(timeout: 10).status == 0)
    }
}
