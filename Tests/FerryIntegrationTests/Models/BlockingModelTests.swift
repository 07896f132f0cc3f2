import Foundation
import Testing

/// The models that give each connection a whole process or thread: iterative, fork,
/// thread, prethread and prefork-accept, each as an echo demo and under `ferry serve`.
@Suite struct BlockingModelTests {
    /// A demo command line and the rows its distribution has.
    struct Demo: CustomTestStringConvertible {
        var arguments: [String]
        var rows: Int
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let demos = [
        Demo(arguments: ["iterative"], rows: 1),
        Demo(arguments: ["fork"], rows: 1),
        Demo(arguments: ["thread"], rows: 1),
        Demo(arguments: ["prethread", "-n", "3"], rows: 3),
        Demo(arguments: ["prethread", "-n", "3", "--main-accept"], rows: 3),
        Demo(arguments: ["prefork-accept", "-n", "3"], rows: 3),
        Demo(arguments: ["prefork-accept", "-n", "3", "--lock", "file"], rows: 3),
        Demo(arguments: ["prefork-accept", "-n", "3", "--lock", "mutex"], rows: 3),
    ]

    /// The models under `ferry serve --workers 2` and the report rows each prints.
    static let served: [(model: String, rows: [String])] = [
        ("iterative", ["server"]),
        ("fork", ["children"]),
        ("thread", ["threads"]),
        ("prethread", ["thread 0", "thread 1"]),
        ("prefork-accept", ["worker 0", "worker 1"]),
    ]

    @Test(arguments: demos)
    func echoDemoAnswersEveryConnectionAndCountsIt(_ demo: Demo) throws {
        let server = try FerryProcess(["demo"] + demo.arguments + ["-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())
        let load = echoLoad(port: port, connections: 36, bytes: 3000)
        #expect(load.failures == 0)
        let result = server.stop(signal: SIGINT)
        #expect(result.status == 0, "\(result.stderr)")
        let counts = Self.distribution(result.stdout)
        #expect(counts.count == demo.rows, "\(result.stdout)")
        #expect(counts.reduce(0, +) == load.connections, "\(result.stdout)")
    }

    /// SIGINT stops accepting but lets a connection already accepted finish.
    /// (The lock variants of prefork-accept stop the same way as the plain one.)
    @Test(arguments: demos.filter { !$0.arguments.contains("--lock") })
    func connectionInFlightAtSIGINTIsStillAnswered(_ demo: Demo) throws {
        let server = try FerryProcess(["demo"] + demo.arguments + ["-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())
        let client = try RawClient(port: port, receiveTimeout: 10)
        usleep(300_000)  // time for the server to accept it
        kill(server.pid, SIGINT)
        if demo.arguments[0] == "iterative" {
            // It reads the signal only between connections.
            usleep(300_000)
            #expect(!server.errors.contains("SIGINT"))
        } else {
            #expect(server.waitForErrors("SIGINT", timeout: 10))
        }
        client.send("5\n")
        #expect(client.readAll() == Array("xxxxx".utf8))
        let result = server.wait(timeout: 15)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.distribution(result.stdout).reduce(0, +) == 1, "\(result.stdout)")
    }

    @Test func forkReapsEveryChild() throws {
        let server = try FerryProcess(["demo", "fork", "-i", "127.0.0.1", "-p", "0"])
        defer { server.stop(signal: SIGINT) }
        let port = try #require(server.announcedPort())
        let load = echoLoad(port: port, connections: 30, bytes: 3000)
        #expect(load.failures == 0)
        // A child that was not reaped stays in the list as a zombie (state Z) forever.
        let reaped = waitUntil(timeout: 5) { server.childPIDs().isEmpty }
        let zombies = server.childPIDs().filter { Self.processState($0) == "Z" }
        #expect(reaped, "children left: \(server.childPIDs()), zombies: \(zombies)")
        #expect(zombies.isEmpty)
    }

    @Test(arguments: served.map(\.model))
    func serveRunsTheFileHandler(_ model: String) throws {
        let server = try FerryServer(["--model", model, "--workers", "2", "--host", "localhost",
                                      "--access-log", "off"])
        let expected = try Data(contentsOf: URL(fileURLWithPath: packageRoot + "/public/index.html"))
        var bases = [server.base]
        // localhost gives two listeners (127.0.0.1 and ::1) where the machine has IPv6.
        if server.ferry.output.contains("[::1]:\(server.port)") { bases.append("http://[::1]:\(server.port)") }
        for base in bases {
            let response = try run("curl", ["-s", "--fail", base + "/index.html"], timeout: 20)
            #expect(response.status == 0, "\(base): \(response.stderr)")
            #expect(response.stdout == expected, "\(base)")
        }
        let result = server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        let rows = Self.served.first { $0.model == model }!.rows
        for row in rows { #expect(result.stdout.contains("\n\(row): "), "\(result.stdout)") }
        #expect(result.stdout.contains("total: \(bases.count) connections, \(bases.count) requests"), "\(result.stdout)")
    }

    /// The models that make a handler per thread serve without the open-file cache:
    /// one per connection (or pool thread) would hold an inotify instance and cached
    /// descriptors each, past the budget counted once at start.
    @Test(arguments: ["thread", "prethread"])
    func threadModelsKeepNoCachePerThread(_ model: String) throws {
        let server = try FerryServer(["--model", model, "--workers", "4", "--access-log", "off"])
        let connections = try (0..<4).map { _ in try KeptConnection(port: server.port) }
        for connection in connections { #expect(try connection.get("/index.html").status == 200) }
        // Every connection is open and has been answered, each on a thread of its own.
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd")) ?? []
        let inotify = descriptors.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/fd/\($0)")) == "anon_inode:inotify"
        }
        #expect(!descriptors.isEmpty, "no /proc/\(server.pid)/fd")
        #expect(inotify.isEmpty, "\(inotify.count) inotify instances with \(connections.count) connections")
    }

    /// The counts of the "child N : X times" lines (or "thread N", "server", ...).
    static func distribution(_ output: String) -> [Int] {
        output.split(separator: "\n").compactMap { line in
            guard line.contains(" : "), line.hasSuffix(" times") else { return nil }
            return Int(line.split(separator: " ").dropLast().last ?? "")
        }
    }

    /// The state letter of /proc/PID/stat (R, S, Z, ...); nil once the process is gone.
    static func processState(_ pid: Int32) -> Character? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].first { $0 != " " }
    }
}
