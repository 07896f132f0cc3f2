import Foundation
import Testing

/// Every model under the real load client, as the issue asks: `ferry client` with a few
/// children against each echo demo and against `ferry serve --model` for each, every
/// byte count verified by the client, and the server's own tally agreeing with it.
@Suite(.serialized) struct ClientLoadsEveryModelTests {
    static let models = ["iterative", "fork", "select", "prefork-accept", "prefork-pass", "thread", "poll",
                         "epoll", "prethread"]
    static let pooled: Set<String> = ["prefork-accept", "prefork-pass", "prethread"]

    @Test(arguments: models)
    func echoDemo(model: String) throws {
        let pool = Self.pooled.contains(model) ? ["-n", "3"] : []
        let demo = try FerryProcess(["demo", model, "-i", "127.0.0.1", "-p", "0"] + pool)
        let port = try #require(demo.announcedPort())

        let result = try run(ferryBinary, ["client", "-i", "127.0.0.1", "-p", "\(port)",
                                           "-c", "3", "-t", "20", "-b", "3000"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 60)
        #expect(summary.failures == 0)
        #expect(summary.bytes == 60 * 3000)

        let stopped = demo.stop(signal: SIGINT)
        #expect(stopped.status == 0)
        let counts = stopped.stdout.split(separator: "\n").filter { $0.hasSuffix(" times") }
            .compactMap { Int($0.split(separator: " ").dropLast().last ?? "") }
        #expect(counts.count == (Self.pooled.contains(model) ? 3 : 1), "\(stopped.stdout)")
        #expect(counts.reduce(0, +) == 60, "\(stopped.stdout)")
    }

    @Test(arguments: models)
    func fileServer(model: String) throws {
        let size = try #require(try FileManager.default.attributesOfItem(
            atPath: packageRoot + "/public/index.html")[.size] as? Int)
        let server = try FerryServer(["--model", model, "--workers", "3", "--max-workers", "3",
                                      "--access-log", "off"])
        let result = try run(ferryBinary, ["client", "-p", "\(server.port)", "-c", "3", "-t", "20",
                                           "--http", "/index.html"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 60)
        #expect(summary.failures == 0)
        #expect(summary.bytes == 60 * size)

        let stopped = server.stop()
        #expect(stopped.status == 0)
        #expect(stopped.stdout.contains("total: 60 connections, 60 requests, "), "\(stopped.stdout)")
    }
}
