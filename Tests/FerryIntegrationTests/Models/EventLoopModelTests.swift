import Foundation
import Testing

/// The one-process event-loop models (select, poll, epoll) on the echo protocol and
/// as the file server. A server a test does not stop is killed when its FerryProcess
/// goes away (stop it at most once: a second stop waits out the output collectors).
/// Serialized: the non-stalling test measures latencies, which a
/// neighbour test competing for the two cores would blur.
@Suite(.serialized) struct EventLoopModelTests {
    static let models = ["select", "poll", "epoll"]

    // MARK: echo demo

    /// Idle connections held open, and one client that asks for 16 MiB but does not
    /// read yet (the server's write stops at EAGAIN and must wait for writability),
    /// while concurrent clients with small and 1 MiB answers are served; then the held
    /// ones are answered too. Only a loop that really multiplexes gets through: one
    /// blocked on any of them would time the others out. Ctrl-C prints one row that
    /// counts every connection.
    @Test(arguments: models) func echoDemoServesConcurrentClients(model: String) throws {
        let server = try FerryProcess(["demo", model, "-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())

        let idle = try (0..<40).map { _ in try RawClient(port: port, receiveTimeout: 10) }
        let stalledReader = try RawClient(port: port, receiveTimeout: 10)
        stalledReader.send("\(16 << 20)\n")
        // 4 threads × 25 connections × 3000 bytes, and 2 threads × 5 connections × 1 MiB.
        let jobs = Array(repeating: (25, 3000), count: 4) + Array(repeating: (5, 1 << 20), count: 2)
        let lock = NSLock()
        var total = EchoLoadResult()
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let result = echoLoad(port: port, connections: jobs[index].0, bytes: jobs[index].1)
            lock.lock()
            total.connections += result.connections
            total.failures += result.failures
            lock.unlock()
        }
        #expect(total.connections == 110)
        #expect(total.failures == 0)

        for client in idle { client.send("5000\n") }
        let answers = idle.map { $0.readAll(limit: 5001).count }
        #expect(answers.allSatisfy { $0 == 5000 }, "answers to the idle connections: \(answers)")
        #expect(stalledReader.readAll(limit: (16 << 20) + 1).count == 16 << 20)

        let stopped = server.stop(signal: SIGINT)
        #expect(stopped.status == 0)
        let rows = stopped.stdout.split(separator: "\n").filter { $0.hasSuffix(" times") }
        #expect(rows == ["\(model) loop : 151 times"], "\(stopped.stdout)\n\(stopped.stderr)")
    }

    // MARK: file server

    @Test(arguments: models) func serveAnswersFilesAndNotFound(model: String) throws {
        let server = try FerryServer(["--model", model])
        let page = try run("curl", ["-s", "-S", "--max-time", "10", server.base + "/index.html"])
        let expected = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/public/index.html"))
        #expect(page.status == 0)
        #expect(page.stdout == expected)
        let missing = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                                       server.base + "/no-such-file.html"])
        #expect(missing.text == "404")

        let stopped = server.stop()
        #expect(stopped.status == 0)
        #expect(stopped.stdout.contains("\(model) loop: 2 connections, 2 requests"), "\(stopped.stdout)")
    }

    /// A 200 MiB download, throttled by the client so the server's socket buffer stays
    /// full, must not hold up other clients: an event loop that sent the body blocking
    /// (or until done) would make every small fetch wait for it. The rate (50 MiB/s, about
    /// 4 s) keeps the test short while still far below what loopback carries.
    @Test(arguments: models) func largeDownloadDoesNotStallOtherClients(model: String) throws {
        let root = try TemporaryDirectory()
        let big = root.path + "/big.bin"
        try run("sh", ["-c", "head -c 200M /dev/urandom > \"$0\" && echo small > \"$1\"", big, root.path + "/small.txt"])
        let expectedDigest = try sha256(of: big)

        let server = try FerryServer([root.path, "--model", model, "--access-log", "off"])
        let download = root.path + "/download.bin"
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        slow.arguments = ["curl", "-s", "-S", "--limit-rate", "50M", "--max-time", "60", "-o", download,
                          server.base + "/big.bin"]
        try slow.run()
        defer { if slow.isRunning { kill(slow.processIdentifier, SIGKILL); slow.waitUntilExit() } }
        // Let the download get going: the server's send buffer fills and its session waits.
        #expect(waitUntil(timeout: 5) { fileSize(download) > 4 << 20 })

        var slowest = 0.0
        for _ in 0..<20 {
            let started = Date()
            let small = try run("curl", ["-s", "-S", "--max-time", "5", server.base + "/small.txt"])
            slowest = max(slowest, Date().timeIntervalSince(started))
            #expect(small.text == "small\n")
        }
        #expect(slowest < 1, "slowest small fetch took \(slowest) s")
        #expect(slow.isRunning, "the large download ended before the small fetches did: nothing was tested")

        #expect(waitUntil(timeout: 60) { !slow.isRunning })
        slow.waitUntilExit()
        #expect(slow.terminationStatus == 0)
        #expect(try sha256(of: download) == expectedDigest)
        #expect(server.stop().status == 0)
    }

    // MARK: select's FD_SETSIZE

    /// More than 1024 connections at once: select must refuse (log and close) those
    /// whose descriptor is at or above FD_SETSIZE instead of FD_SET-ing them (memory
    /// corruption, h2o#287), keep serving the others, and serve new ones once
    /// descriptors are free again. The server inherits this process's raised
    /// RLIMIT_NOFILE, so it is not stopped by EMFILE first.
    @Test(.enabled(if: raiseDescriptorLimit(to: 4096)))
    func selectRefusesDescriptorsAtOrAboveFDSetSize() throws {
        let server = try FerryProcess(["demo", "select", "-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())

        var held = try (0..<1100).map { _ in try RawClient(port: port, receiveTimeout: 10) }
        #expect(server.waitForErrors("at or above FD_SETSIZE (1024)", timeout: 10), "\(server.errors)")
        // A connection accepted below the limit is still served.
        held[0].send("3000\n")
        #expect(held[0].readAll(limit: 3001).count == 3000)

        held.removeAll()
        // Once the server has closed the idle connections, new ones get low descriptors.
        #expect(waitUntil(timeout: 10) { openDescriptorCount(of: server.pid) < 100 })
        let after = echoLoad(port: port, connections: 5, bytes: 3000)
        #expect(after.failures == 0)
        #expect(server.process.isRunning)

        let stopped = server.stop(signal: SIGINT)
        #expect(stopped.status == 0)
        #expect(stopped.stdout.contains("select loop : "))
    }

    // MARK: deadlines

    /// A client that connects and sends nothing gets a 408 once head_timeout passes:
    /// the loop finds the expired session and calls expire().
    @Test(arguments: models) func silentClientGetsRequestTimeout(model: String) throws {
        let directory = try TemporaryDirectory()
        let config = directory.path + "/ferry.toml"
        try """
            [server]
            root = "\(packageRoot)/public"
            defer_accept = 0
            [limits]
            head_timeout = 1
            [log]
            access = "off"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try FerryServer(["--config", config, "--model", model])

        let client = try RawClient(port: server.port, receiveTimeout: 10)
        let started = Date()
        let response = client.response()
        let elapsed = Date().timeIntervalSince(started)
        #expect(response.status == 408)
        #expect(elapsed > 0.8 && elapsed < 5, "408 after \(elapsed) s")
        // The loop still serves others.
        let page = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", server.base + "/"])
        #expect(page.text == "200")
        #expect(server.stop().status == 0)
    }
}

// MARK: helpers

/// A fresh directory under the system's temporary directory, removed with its contents
/// when the value goes away.
private final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "ferry-event-loop-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func sha256(of path: String) throws -> String {
    let result = try run("sha256sum", [path], timeout: 30)
    return String(result.text.prefix { $0 != " " })
}

private func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : 0
}

private func openDescriptorCount(of pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? Int.max
}

/// Raises this process's soft RLIMIT_NOFILE to at least `minimum` (children inherit it);
/// false when the hard limit does not allow it.
private func raiseDescriptorLimit(to minimum: rlim_t) -> Bool {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return false }
    if limit.rlim_cur >= minimum { return true }
    guard limit.rlim_max >= minimum else { return false }
    limit.rlim_cur = minimum
    return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0
}
