import Foundation
import Testing

private enum ProcessSite: FixtureSite {
    static let largeSize = 64 << 20

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/small.txt", "small\n")
        try scratch.random("root/large.bin", bytes: largeSize)
    }
}

/// The process model seen from outside: only the parent holds the listening socket
/// (on both loopbacks for "localhost"); a killed worker is replaced; SIGTERM lets a
/// download finish and the drain is bounded; the exit report's counters say how bytes
/// were sent; workers die with the parent.
@Suite(.serialized, .fixture("process", serving: nil, site: ProcessSite.self))
struct ProcessTests {
    /// Socket inodes of the descriptors a process holds, from /proc/PID/fd.
    static func socketInodes(of pid: Int32) -> Set<String> {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(names.compactMap { name in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)) ?? ""
            return target.hasPrefix("socket:[") ? String(target.dropFirst(8).dropLast()) : nil
        })
    }

    /// A /proc file read to its end (its size is reported as 0, and a table of many
    /// sockets spans several reads).
    static func readProcFile(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return String(decoding: (try? handle.readToEnd()) ?? Data(), as: UTF8.self)
    }

    /// IPv4 TCP sockets from /proc/net/tcp: addresses as the kernel writes them
    /// ("0100007F:1F90" is 127.0.0.1:8080), state ("0A" is LISTEN) and inode.
    static func tcpSockets() -> [(local: String, remote: String, state: String, inode: String)] {
        let table = readProcFile("/proc/net/tcp")
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        return table.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
            .filter { $0.count > 9 }.map { ($0[1], $0[2], $0[3], $0[9]) }
    }

    static func loopback(_ port: Int) -> String { "0100007F:" + String(format: "%04X", port) }

    /// The inode of the socket listening on 127.0.0.1:`port`.
    static func listenerInode(port: Int) -> String? {
        tcpSockets().first { $0.local == loopback(port) && $0.state == "0A" }?.inode
    }

    /// The inode of the server's end of `client`'s connection to 127.0.0.1:`port`.
    static func serverEndInode(of client: RawClient, port: Int) -> String? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        let clientPort = Int(UInt16(bigEndian: address.sin_port))
        return tcpSockets().first { $0.local == loopback(port) && $0.remote == loopback(clientPort) }?.inode
    }

    /// "R", "S", "Z", ... from /proc/PID/stat; nil once the process is gone.
    static func state(of pid: Int32) -> String? {
        let stat = readProcFile("/proc/\(pid)/stat")
        guard let close = stat.range(of: ") ", options: .backwards) else { return nil }
        return String(stat[close.upperBound...].prefix(1))
    }

    @Test func noWorkerHoldsTheListeningSocket() throws {
        let server = try FerryServer(["--workers", "3", Fixture.scratch.root])
        defer { server.stop() }
        #expect(try request(server.port, "/small.txt").status == 200)
        let listener = try #require(Self.listenerInode(port: server.port))
        #expect(Self.socketInodes(of: server.pid).contains(listener), "the parent listens")
        let workers = server.workers(atLeast: 3)
        #expect(workers.count >= 3)
        for worker in workers {
            #expect(!Self.socketInodes(of: worker).contains(listener), "worker \(worker) holds the listening socket")
        }
    }

    /// "localhost" listens on both loopbacks, on the same port even when --port 0
    /// picks it, as the announced URLs say.
    @Test func localhostListensOnBothLoopbacks() throws {
        let server = try FerryServer(["--host", "localhost", Fixture.scratch.root])
        defer { server.stop() }
        #expect(server.ferry.output.contains("http://127.0.0.1:\(server.port)/ and http://[::1]:\(server.port)/"))
        for host in ["127.0.0.1", "::1"] {
            let client = try RawClient(port: server.port, host: host)
            client.send("GET /small.txt HTTP/1.0\r\n\r\n")
            #expect(client.response().bodyText == "small\n", "\(host)")
        }
        let curl = try run("curl", ["-sS", "-g", "http://[::1]:\(server.port)/small.txt"])
        #expect(curl.text == "small\n")
    }

    /// A worker killed with SIGKILL, idle or in the middle of a response, is reaped and
    /// replaced; the parent says so on standard error and the next requests succeed.
    @Test func killedWorkersAreReplaced() throws {
        let server = try FerryServer(["--workers", "2", "--max-workers", "2", Fixture.scratch.root])
        defer { server.stop() }
        let before = server.workers(atLeast: 2)
        #expect(before.count == 2)

        // An idle worker.
        let idle = before[0]
        kill(idle, SIGKILL)
        #expect(server.ferry.waitForErrors("(pid \(idle)) was killed by signal 9", timeout: 10), "\(server.ferry.errors)")
        #expect(waitUntil(timeout: 10) { let now = server.workerPIDs(); return now.count == 2 && !now.contains(idle) })

        // A busy worker: its client sees the connection end early, nobody else notices.
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /large.bin HTTP/1.0\r\n\r\n")
        _ = client.readHead()
        let connection = try #require(Self.serverEndInode(of: client, port: server.port))
        let busy = try #require(server.workerPIDs().first { Self.socketInodes(of: $0).contains(connection) })
        kill(busy, SIGKILL)
        let cut = client.readAllNotingError()
        #expect(cut.bytes.count < ProcessSite.largeSize)
        #expect(server.ferry.waitForErrors("(pid \(busy)) was killed by signal 9", timeout: 10))
        #expect(waitUntil(timeout: 10) { let now = server.workerPIDs(); return now.count == 2 && !now.contains(busy) })

        for _ in 0..<10 {
            let response = try request(server.port, "/small.txt")
            #expect(response.status == 200)
            #expect(response.bodyText == "small\n")
        }
        #expect(server.ferry.errors.contains("starting a new one"))
    }

    /// SIGTERM while a rate-limited download runs: no new connections are taken, the
    /// download completes with the right bytes, and the server exits 0.
    @Test func sigtermLetsADownloadFinish() throws {
        let scratch = Fixture.scratch
        // Ends below by itself; a failed `try` leaves it to FerryProcess's deinit.
        let server = try FerryServer([scratch.root])
        let directory = try scratch.downloads()
        let output = directory + "/large.bin"

        // About 3 s at 20 MB/s.
        let download = Background {
            try run("curl", ["-sS", "--fail", "--limit-rate", "20M", "-o", output, server.base + "/large.bin"], timeout: 60)
        }
        #expect(waitUntil(timeout: 10) { (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0 > 1 << 20 })
        kill(server.pid, SIGTERM)
        #expect(server.ferry.waitForErrors("SIGTERM", timeout: 5))
        #expect(throws: (any Error).self, "the listener is closed") { try RawClient(port: server.port) }

        let result = try download.value(timeout: 60)
        #expect(result.status == 0, "curl: \(result.stderr)")
        #expect(try sha256File(output) == scratch.sha256("root/large.bin"))
        let (status, stdout, _) = server.ferry.wait(timeout: 20)
        #expect(status == 0)
        #expect(stdout.contains("total: 1 connections, 1 requests, \(ProcessSite.largeSize) bytes via sendfile"), "\(stdout)")
    }

    /// prefork-pass: a worker busy with a long download does not make others wait for
    /// it: when no worker finishes anything for a moment, the pool grows (up to --max-workers).
    @Test func poolGrowsWhileWorkersAreBusyForLong() throws {
        let scratch = Fixture.scratch
        let server = try FerryServer(["--model", "prefork-pass", "--workers", "1", "--max-workers", "3", scratch.root])
        let directory = try scratch.downloads()
        let output = directory + "/grow.bin"
        let download = Background {
            try run("curl", ["-sS", "--fail", "--limit-rate", "20M", "-o", output, server.base + "/large.bin"], timeout: 60)
        }
        #expect(waitUntil(timeout: 10) { (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0 > 1 << 20 })

        let start = Date()
        let small = try request(server.port, "/small.txt")
        #expect(small.status == 200)
        #expect(seconds(since: start) < 2, "the small request waited for the download")

        #expect(try download.value(timeout: 60).status == 0)
        let (status, stdout, _) = server.stop()
        #expect(status == 0)
        #expect(stdout.contains("worker 1: 1 connections, 1 requests"), "\(stdout)")
    }

    /// The drain is bounded: a client that never reads is cut off after
    /// drain_timeout (1 s here) and the server still exits 0.
    @Test func drainTimeoutBoundsShutdown() throws {
        let scratch = Fixture.scratch
        let config = try configFile(scratch, "[limits]\ndrain_timeout = 1\n")
        // Stopped once, below (a failed `try` leaves it to FerryProcess's deinit).
        let server = try FerryServer(["--config", config, scratch.root])
        let client = try RawClient(port: server.port, receiveTimeout: 10)
        client.send("GET /large.bin HTTP/1.0\r\n\r\n")
        _ = client.readHead()
        let start = Date()
        let (status, _, stderr) = server.stop(signal: SIGTERM, timeout: 15)
        #expect(seconds(since: start) < 6)
        #expect(status == 0)
        #expect(stderr.contains("still busy after the drain timeout"), "\(stderr)")
        withExtendedLifetime(client) {}
    }

    /// The exit report: with --copy every body byte went through the copy loop and
    /// none through sendfile; by default the reverse. In-memory bytes (heads, error
    /// pages) are counted apart.
    @Test(arguments: [["--copy"], [], ["--sendfile"]])
    func exitReportCountsHowBytesWent(flags: [String]) throws {
        let scratch = Fixture.scratch
        // Stopped once, below, for its report.
        let server = try FerryServer(flags + ["--workers", "2", scratch.root])
        for _ in 0..<3 {
            #expect(try run("curl", ["-sS", "--fail", "-o", "/dev/null", server.base + "/small.txt"]).status == 0)
        }
        #expect(try request(server.port, "/missing").status == 404)
        let (status, stdout, _) = server.stop()
        #expect(status == 0)
        let total = try #require(stdout.split(separator: "\n").last { $0.hasPrefix("total: ") })
        let copy = flags == ["--copy"]
        #expect(total.hasPrefix("total: 4 connections, 4 requests, \(copy ? 0 : 18) bytes via sendfile, \(copy ? 18 : 0) bytes via copy, "),
                "\(total)")
        // One line per worker before the total, in csdesign's "child N : X times" spirit.
        let workerLines = stdout.split(separator: "\n").filter { $0.hasPrefix("worker ") }
        #expect(workerLines.count >= 2)
        let perWorker = workerLines.compactMap { Int($0.split(separator: " ")[2]) }.reduce(0, +)
        #expect(perWorker == 4, "\(workerLines)")
    }

    /// Idle workers do not outlive a parent killed with SIGKILL: end of stream on their
    /// channels ends them (FaultTests has the busy case).
    @Test func workersExitWhenTheParentDies() throws {
        let server = try FerryServer(["--workers", "3", Fixture.scratch.root])
        let workers = server.workers(atLeast: 3)
        #expect(workers.count >= 3)
        server.stop(signal: SIGKILL)
        for worker in workers {
            // Gone, or a zombie waiting for whoever inherited it.
            #expect(waitUntil(timeout: 10) { [nil, "Z"].contains(Self.state(of: worker)) }, "worker \(worker) outlived its parent")
        }
    }
}
