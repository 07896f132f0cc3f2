import Foundation
import Testing

private enum BalancerSite: FixtureSite {
    static let largeSize = 64 << 20

    static func build(_ scratch: Scratch) throws {
        // What the balancer's health check asks for: HEAD /.
        try scratch.write("root/index.html", "<!DOCTYPE html><title>behind haproxy</title>\n")
        try scratch.random("root/small.bin", bytes: 4096)
        try scratch.random("root/large.bin", bytes: largeSize)
        // Each instance's own file, so that a reload reads it and not conf/ferry.toml.
        // Downloads paced at 24 MiB/s, about 2.7 s each: one is under way at every moment.
        try scratch.write("ferry.toml", """
            [server]
            workers = 1
            [body]
            limit_rate = \(24 << 20)
            [log]
            access = "off"

            """)
    }
}

/// The README's "Scaling out", for real: two Ferry instances behind Debian's haproxy
/// running the shipped conf/haproxy.cfg. Under load through haproxy (small GETs on
/// kept connections, 64 MiB downloads Ferry paces at 24 MiB/s, checked by sha256),
/// each instance in turn is restarted (SIGTERM, its drain awaited, started again on
/// the same port) or reloaded (SIGHUP) while a download is under way on it: no request
/// may fail and every download must arrive intact.
@Suite(.serialized,
       .enabled(if: FileManager.default.isExecutableFile(atPath: haproxyBinary),
                "haproxy is not installed (Debian package haproxy; scripts/ensure-deps test installs it as root)"),
       .fixture("balancer", serving: nil, site: BalancerSite.self))
struct BalancerTests {
    var scratch: Scratch { Fixture.scratch }

    enum Disruption: String, CaseIterable {
        /// SIGTERM; once the drain has ended and the process exited, start it again.
        case restart
        /// SIGHUP: a new generation of workers; the old one drains and exits.
        case reload
    }

    static let servers = ["a", "b"]

    func startInstance(port: Int) throws -> FerryServer {
        try FerryServer(["--config", scratch.at("ferry.toml"), "--port", String(port), scratch.root])
    }

    @Test(arguments: Disruption.allCases)
    func noRequestFailsWhileEachInstanceIsDisruptedInTurn(_ disruption: Disruption) throws {
        // Restarted on the same port: one no connection or other test can take meanwhile.
        var instances = try (0..<2).map { _ in try startInstance(port: try freeLoopbackPortBelowEphemeralRange()) }
        defer { instances.forEach { $0.stop() } }
        let balancer = try HAProxy(port: try freeLoopbackPort(), servers: (instances[0].port, instances[1].port),
                                   directory: scratch.path)
        defer { balancer.stop() }
        try #require(balancer.waitUntilUp(Self.servers, timeout: 15), "haproxy: \(balancer.process.errors)")

        let started = Date()
        let load = BalancerLoad(port: balancer.port, small: ("/small.bin", scratch.read("root/small.bin")),
                                large: ("/large.bin", try scratch.sha256("root/large.bin")),
                                clients: 4, downloaders: 3)
        defer { _ = load.stop() }
        var disruptedAt: [String: Date] = [:]
        // From the signal to the instance back in service (restart) or its retired worker gone (reload).
        var stepTook: [String: Double] = [:]
        for (index, server) in Self.servers.enumerated() {
            // A download on it begun half a second to a second and a half ago: under
            // way, and (at 24 MiB/s, 2.7 s in all) far from done.
            #expect(waitUntil(timeout: 10) {
                !load.downloadsUnderWay(begun: 0.5...1.5).isDisjoint(with: balancer.clientPorts(on: server))
            }, "no download under way on \(server)")
            let answered = Self.requestsAnswered(by: server, balancer)
            disruptedAt[server] = Date()
            try disrupt(&instances[index], disruption, server: server, balancer: balancer)
            // Back in service before the other one is disrupted.
            #expect(waitUntil(timeout: 10) { Self.requestsAnswered(by: server, balancer) > answered },
                    "\(server) answered nothing after its \(disruption)")
            stepTook[server] = seconds(since: disruptedAt[server]!)
        }
        let summary = load.stop()
        let elapsed = seconds(since: started)

        let broken = summary.downloads.filter { $0.problem != nil }
        let inFlight = Self.downloadsInFlight(summary.downloads, servedBy: balancer.servers(answering: "/large.bin"),
                                              at: disruptedAt)
        let stats = balancer.serverStats()
        let backend = stats["BACKEND"] ?? [:]
        func each(_ value: (String) -> String) -> String { Self.servers.map { "\($0) \(value($0))" }.joined(separator: ", ") }
        print("BalancerTests \(disruption): \(summary.requests) small requests on \(summary.connections) kept connections, "
              + "\(summary.failures.count) failed; \(summary.downloads.count - broken.count) of \(summary.downloads.count) "
              + "64 MiB downloads intact, in flight on the \(disruption)ed instance: \(each { "\(inFlight[$0] ?? 0)" }); "
              + "haproxy: \(backend["wretr"] ?? "?") retries, \(backend["wredis"] ?? "?") redispatches, "
              + "\(backend["hrsp_5xx"] ?? "?") 5xx, checks marked DOWN: \(each { stats[$0]?["chkdown"] ?? "?" }); "
              + "each step took \(each { String(format: "%.1f s", stepTook[$0] ?? -1) }); "
              + String(format: "%.1f s under load", elapsed))

        #expect(summary.failures.isEmpty, "\(summary.failures.count) failed: \(summary.failures.prefix(10))\n\(Self.problems(in: balancer))")
        #expect(summary.requests >= 200, "too little load to show anything")
        #expect(broken.isEmpty, "\(broken.prefix(5))")
        for server in Self.servers {
            #expect(inFlight[server, default: 0] >= 1, "no download was in flight on \(server) at its \(disruption)")
        }
        #expect(backend["hrsp_5xx"] == "0", "haproxy answered 5xx: \(Self.problems(in: balancer))")
        for instance in instances {
            #expect(instance.stop().status == 0)
        }
    }

    /// Restart: SIGTERM, wait for the drain to end, start again on the same port, wait
    /// until haproxy's checks find it UP. Reload: SIGHUP, wait for the new worker and
    /// for the retired one to finish and exit.
    func disrupt(_ instance: inout FerryServer, _ disruption: Disruption, server: String, balancer: HAProxy) throws {
        switch disruption {
        case .restart:
            let stopped = instance.stop(signal: SIGTERM, timeout: 30)
            #expect(stopped.status == 0, "\(server): \(stopped.stderr)")
            instance = try startInstance(port: instance.port)
            #expect(balancer.waitUntilUp([server], timeout: 10), "\(server) not UP again: \(balancer.serverStats())")
        case .reload:
            let reloaded = instance
            let retiring = Set(reloaded.workerPIDs())
            kill(reloaded.pid, SIGHUP)
            #expect(reloaded.ferry.waitForErrors("ferry: reloaded ", timeout: 10), "\(server): \(reloaded.ferry.errors)")
            #expect(waitUntil(timeout: 30) {
                let workers = Set(reloaded.workerPIDs())
                return workers.count == 1 && workers.isDisjoint(with: retiring)
            }, "\(server): the retired worker did not exit")
        }
    }

    static func requestsAnswered(by server: String, _ balancer: HAProxy) -> Int {
        Int(balancer.serverStats()[server]?["req_tot"] ?? "") ?? 0
    }

    /// Per server, the downloads it answered (haproxy's log, by client port) that had
    /// begun and not yet ended when it was disrupted.
    static func downloadsInFlight(_ downloads: [BalancerLoad.Download], servedBy: [Int: String],
                                  at disruptedAt: [String: Date]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for download in downloads {
            guard let server = servedBy[download.clientPort], let moment = disruptedAt[server],
                  download.start < moment && moment < download.end else { continue }
            counts[server, default: 0] += 1
        }
        return counts
    }

    /// haproxy's log lines other than a 200 or a health check passing, to show why a request failed.
    static func problems(in balancer: HAProxy) -> String {
        balancer.process.errors.split(separator: "\n")
            .filter { !$0.contains(" 200 ") && !$0.contains("succeeded") }
            .suffix(40).joined(separator: "\n")
    }
}
