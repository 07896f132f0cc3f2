import Foundation
import Testing

private enum LogRotationSite: FixtureSite {
    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/a.txt", "alpha\n")
    }
}

/// SIGUSR1 reopens the access log (logrotate's postrotate): the parent opens the path
/// and passes the file to its workers, a single process reopens in place. A log that
/// cannot be written never stops or slows serving and is reported once, not per request.
@Suite(.fixture("logrotate", serving: nil, site: LogRotationSite.self))
struct LogRotationTests {
    var scratch: Scratch { Fixture.scratch }

    /// `count` requests for /a.txt over fresh connections (one curl, one URL each);
    /// returns the status codes curl saw.
    func fetch(_ server: FerryServer, count: Int) throws -> [String] {
        let urls = Array(repeating: server.base + "/a.txt", count: count)
        let result = try run("curl", ["-sS", "-H", "Connection: close"]
                                     + urls.flatMap { ["-o", "/dev/null", "-w", "%{http_code}\n", $0] }, timeout: 60)
        return result.text.split(separator: "\n").map(String.init)
    }

    func lineCount(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test(arguments: ["prefork-pass-epoll", "prefork-pass", "epoll"])
    func rotatingLosesNoLine(model: String) throws {
        let directory = scratch.at("rotate-\(model)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A single process reopens as the user it serves as (nobody, when the tests run as root).
        chmod(scratch.path, 0o755)
        chmod(directory, 0o777)
        let log = directory + "/access.log"
        let server = try FerryServer(["--model", model, "--workers", "2", "--access-log", log, scratch.root])
        #expect(try fetch(server, count: 40) == Array(repeating: "200", count: 40))
        #expect(waitUntil(timeout: 10) { lineCount(log) == 40 })
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        kill(server.pid, SIGUSR1)
        #expect(server.ferry.waitForErrors("ferry: SIGUSR1: reopened the access log \(log)", timeout: 10))
        #expect(try fetch(server, count: 30) == Array(repeating: "200", count: 30))
        #expect(waitUntil(timeout: 10) { lineCount(log) == 30 }, "new file: \(lineCount(log)) lines")
        #expect(lineCount(log + ".1") == 40)
        let result = server.stop()
        #expect(result.status == 0)
        #expect(result.stdout.contains("total: 70 connections, 70 requests"), "\(result.stdout)")
        #expect(!result.stderr.contains("cannot"), "\(result.stderr)")
    }

    @Test func aFullDiskNeitherStopsNorSlowsServingAndIsReportedOnce() throws {
        let server = try FerryServer(["--workers", "1", "--access-log", "/dev/full", scratch.root])
        let started = Date()
        #expect(try fetch(server, count: 300) == Array(repeating: "200", count: 300))
        #expect(Date().timeIntervalSince(started) < 20)
        let result = server.stop()
        #expect(result.status == 0)
        let reports = result.stderr.split(separator: "\n").filter { $0.contains("access log") }
        #expect(reports == ["ferry: access log /dev/full: No space left on device "
                            + "(dropping lines that cannot be written; reported at most once a minute)"],
                "\(result.stderr)")
    }

    @Test func aReopenThatFailsKeepsTheOpenFileAndServing() throws {
        let directory = scratch.at("gone")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let server = try FerryServer(["--workers", "2", "--access-log", directory + "/access.log", scratch.root])
        try FileManager.default.removeItem(atPath: directory)
        kill(server.pid, SIGUSR1)
        #expect(server.ferry.waitForErrors("ferry: SIGUSR1: cannot reopen the access log \(directory)/access.log: "
                                           + "No such file or directory; still writing to the file open before", timeout: 10))
        #expect(try fetch(server, count: 20) == Array(repeating: "200", count: 20))
        #expect(server.stop().status == 0)
    }

    @Test func standardOutputHasNothingToReopen() throws {
        let server = try FerryServer(["--access-log", "stdout", scratch.root])
        kill(server.pid, SIGUSR1)
        #expect(try fetch(server, count: 2) == ["200", "200"])
        let result = server.stop()
        #expect(result.status == 0)
        #expect(!result.stderr.contains("SIGUSR1"), "\(result.stderr)")
    }

    @Test func aLogUnderARegularFileIsRefusedAtStartAndOnReload() throws {
        let refused = try run(ferryBinary, ["serve", "--port", "0", "--access-log", "/etc/passwd/x", scratch.root])
        #expect(refused.status != 0)
        #expect(refused.stderr == "ferry: access log /etc/passwd/x: Not a directory\n")

        let config = scratch.at("notdir.toml")
        try scratch.write("notdir.toml", "[log]\naccess = \"off\"\n")
        let server = try FerryServer(["--config", config, scratch.root])
        try scratch.write("notdir.toml", "[log]\naccess = \"/etc/passwd/x\"\n")
        kill(server.pid, SIGHUP)
        #expect(server.ferry.waitForErrors("ferry: reload failed: access log /etc/passwd/x: Not a directory; "
                                           + "still serving with the previous configuration", timeout: 10))
        #expect(try fetch(server, count: 2) == ["200", "200"])
        #expect(server.stop().status == 0)
    }
}
