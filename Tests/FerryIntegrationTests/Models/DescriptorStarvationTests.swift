import Foundation
import Testing

/// A server that runs out of descriptors (EMFILE) under a low `ulimit -n` backs off
/// instead of spinning on a listener that stays readable, and serves the connections
/// that waited in the backlog once descriptors free up. Serialized: it measures the
/// server's CPU time, which a neighbour competing for the cores would not blur, but
/// which would hide a spin less clearly.
@Suite(.serialized) struct DescriptorStarvationTests {
    /// Descriptors the server may hold: well below the connections the test opens.
    static let descriptorLimit = 48

    @Test(arguments: ["epoll", "thread"]) func recoversWhenDescriptorsFreeUp(model: String) throws {
        let server = try FerryServer(["--model", model, "--access-log", "off"],
                                     launcher: ["prlimit", "--nofile=\(Self.descriptorLimit)", "--"])
        defer { server.stop(signal: SIGKILL) }

        // Each held connection sends the start of a head (so TCP_DEFER_ACCEPT lets it
        // through) and then nothing: the server keeps it, waiting for the rest.
        let held = try (0..<60).map { _ in try RawClient(port: server.port, receiveTimeout: 10) }
        for client in held { client.send("GET /index.html HTTP/1.0\r\n") }
        #expect(server.ferry.waitForErrors("Too many open files", timeout: 10), "\(server.ferry.errors)")

        // Complete requests queued behind them: no descriptor is left to accept them.
        let waiting = try (0..<8).map { _ in try RawClient(port: server.port, receiveTimeout: 10) }
        for client in waiting { client.send("GET /index.html HTTP/1.0\r\n\r\n") }

        let cpuBefore = try cpuSeconds(of: server.pid)
        usleep(1_500_000)
        let cpuStarved = try cpuSeconds(of: server.pid) - cpuBefore
        #expect(cpuStarved < 0.2, "the starved server used \(cpuStarved) s of CPU in 1.5 s")
        #expect(readable(waiting.map(\.fd)) == 0, "a queued connection was answered while no descriptor was free")

        held.forEach { shutdown($0.fd, Int32(SHUT_RDWR)) }
        let answers = waiting.map { $0.response().status }
        #expect(answers == Array(repeating: 200, count: waiting.count), "\(answers)\n\(server.ferry.errors)")
        #expect(server.ferry.waitForErrors("accepting again", timeout: 5), "\(server.ferry.errors)")
        let page = try run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                                    server.base + "/index.html"])
        #expect(page.text == "200")
    }

    /// utime + stime of `pid` (all its threads), from /proc/PID/stat.
    private func cpuSeconds(of pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
        let fields = stat[stat.range(of: ")")!.upperBound...].split(separator: " ")
        let ticks = Double(fields[11])! + Double(fields[12])!
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// How many of `descriptors` have input waiting now.
    private func readable(_ descriptors: [Int32]) -> Int {
        var entries = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        return Int(poll(&entries, nfds_t(entries.count), 0))
    }
}
