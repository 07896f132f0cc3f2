import Foundation
import Testing

/// `ferry client` against real servers on loopback: the echo demo, the file server,
/// a port nobody listens on, and small in-test servers that misbehave.
@Suite struct ClientTests {
    @Test func loadsTheEchoDemoAndEveryByteArrives() throws {
        // Stopped below; if a check throws first, FerryProcess's deinit kills it.
        let demo = try FerryProcess(["demo", "prefork-pass", "-i", "127.0.0.1", "-p", "0", "-n", "3"])
        let port = try #require(demo.announcedPort())

        let result = try run(ferryBinary, ["client", "-i", "127.0.0.1", "-p", "\(port)",
                                           "-c", "3", "-t", "50", "-b", "3000"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 150)
        #expect(summary.failures == 0)
        #expect(summary.bytes == 450_000)
        #expect(summary.latency.count == 3)
        #expect(summary.latency[0] <= summary.latency[1] && summary.latency[1] <= summary.latency[2])
        for child in 0..<3 { #expect(result.text.contains("Child \(child) is done\n")) }
        #expect(result.text.components(separatedBy: " is done\n").count - 1 == 3)
        #expect(result.stderr.isEmpty)

        // The server's own count agrees: its children served all 150 connections.
        let stopped = demo.stop(signal: SIGINT)
        let served = stopped.stdout.split(separator: "\n").filter { $0.hasPrefix("child ") }
            .compactMap { Int($0.split(separator: " ")[3]) }
        #expect(served.count == 3)
        #expect(served.reduce(0, +) == 150)
    }

    @Test func loadsTheFileServerOverHTTP() throws {
        let server = try FerryServer()
        defer { server.stop() }
        let size = try #require(try FileManager.default.attributesOfItem(
            atPath: packageRoot + "/public/index.html")[.size] as? Int)

        let result = try run(ferryBinary, ["client", "-p", "\(server.port)", "-c", "3", "-t", "50",
                                           "--http", "/index.html"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 150)
        #expect(summary.failures == 0)
        #expect(summary.bytes == 150 * size)
    }

    @Test func countsAWrongHTTPStatusAsAFailure() throws {
        let server = try FerryServer()
        defer { server.stop() }
        let result = try run(ferryBinary, ["client", "-p", "\(server.port)", "-c", "2", "-t", "3",
                                           "--http", "/no-such-file.html"], timeout: 60)
        #expect(result.status == 1)
        #expect(ClientSummary(result.text)?.failures == 6)
        #expect(result.stderr.contains("6 HTTP status not 200"))
    }

    @Test func countsRefusedConnectionsWithoutCrashing() throws {
        // Bound but not listening: connect(2) is refused, and nobody else gets the port.
        let port = try BoundPort(listening: false)
        let result = try run(ferryBinary, ["client", "-p", "\(port.number)", "-c", "3", "-t", "20"], timeout: 60)
        #expect(result.status == 1)
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 60)
        #expect(summary.failures == 60)
        #expect(summary.bytes == 0)
        #expect(summary.latency == [0, 0, 0])
        #expect(result.stderr.contains("60 of 60 connections failed: 60 connection refused"))
        for child in 0..<3 { #expect(result.text.contains("Child \(child) is done")) }
    }

    @Test(arguments: [(answer: 1000, cause: "short answer"), (answer: 3500, cause: "answer too long")])
    func countsAnAnswerOfTheWrongLength(answer: Int, cause: String) throws {
        let server = try MisbehavingEchoServer(answerBytes: answer)
        defer { server.stop() }
        let result = try run(ferryBinary, ["client", "-p", "\(server.port)", "-c", "2", "-t", "5",
                                           "-b", "3000"], timeout: 60)
        #expect(result.status == 1)
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 10)
        #expect(summary.failures == 10)
        #expect(result.stderr.contains("10 \(cause)"), "\(result.stderr)")
        #expect(server.served == 10)
    }

    @Test func timesOutOnASilentServerAndLeavesNoChildBehind() throws {
        // Listening but never accepting: connect succeeds (the backlog), no answer ever comes.
        let port = try BoundPort(listening: true)
        let client = try FerryProcess(["client", "-p", "\(port.number)", "-c", "2", "-t", "2", "--timeout", "0.5"])
        var children: [Int32] = []
        waitUntil(timeout: 10) {
            children = client.childPIDs()
            return children.count == 2
        }
        #expect(children.count == 2)
        let result = client.wait(timeout: 30)
        #expect(result.status == 1)
        #expect(ClientSummary(result.stdout)?.failures == 4)
        #expect(result.stderr.contains("4 timed out"), "\(result.stderr)")
        for pid in children { #expect(!isClientProcess(pid), "child \(pid) is still there") }
    }

    @Test func childrenDieWithTheirParent() throws {
        let port = try BoundPort(listening: true)
        let client = try FerryProcess(["client", "-p", "\(port.number)", "-c", "3", "-t", "5", "--timeout", "30"])
        var children: [Int32] = []
        waitUntil(timeout: 10) {
            children = client.childPIDs()
            return children.count == 3
        }
        #expect(children.count == 3)
        client.stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 10) { children.allSatisfy { !isClientProcess($0) } })
    }

    @Test(arguments: [
        (["-p", "0"], "-p must be from 1 to 65535"),
        (["-p", "2000", "-c", "0"], "-c must be from 1 to 1024"),
        (["-p", "2000", "-t", "0"], "-t must be from 1 to 1000000"),
        (["-p", "2000", "-b=-1"], "-b must be from 0 to"),
        (["-p", "2000", "--timeout", "0"], "--timeout must be from 0.001 to 3600"),
        (["-p", "2000", "--http", "index.html"], "--http PATH must start with '/'"),
        (["-p", "2000", "--http", "/a b"], "percent-encode"),
    ])
    func refusesBadArgumentsWithOneLine(arguments: [String], message: String) throws {
        let result = try run(ferryBinary, ["client"] + arguments, timeout: 30)
        #expect(result.status == 64)
        #expect(result.stderr.split(separator: "\n").first?.contains(message) == true, "\(result.stderr)")
        #expect(result.text.isEmpty)
    }

    @Test func saysWhenTheHostDoesNotResolve() throws {
        let result = try run(ferryBinary, ["client", "-i", "no-such-host.invalid", "-p", "2000"], timeout: 60)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("ferry client: cannot resolve host 'no-such-host.invalid'"))
    }
}

/// The two summary lines `ferry client` prints.
struct ClientSummary {
    var connections = 0
    var failures = 0
    var bytes = 0
    /// p50, p99, max in milliseconds.
    var latency: [Double] = []

    init?(_ output: String) {
        let lines = output.split(separator: "\n")
        guard let counts = lines.first(where: { $0.hasPrefix("connections: ") }),
              let latencyLine = lines.first(where: { $0.hasPrefix("latency p50 ") }) else { return nil }
        // "connections: 150, failures: 0, bytes: 450000, wall: 0.021 s, 7143.9 connections/s"
        let fields = counts.components(separatedBy: ", ").map { $0.components(separatedBy: ": ") }
        guard fields.count == 5, fields[0].count == 2, fields[1].count == 2, fields[2].count == 2,
              fields[3].first == "wall", fields[4].first?.hasSuffix(" connections/s") == true,
              let connections = Int(fields[0][1]), let failures = Int(fields[1][1]), let bytes = Int(fields[2][1])
        else { return nil }
        self.connections = connections
        self.failures = failures
        self.bytes = bytes
        // "latency p50 0.144 ms, p99 0.879 ms, max 1.108 ms"
        latency = latencyLine.components(separatedBy: ", ").compactMap { part in
            let words = part.split(separator: " ")
            return words.count >= 2 && words.last == "ms" ? Double(words[words.count - 2]) : nil
        }
        guard latency.count == 3 else { return nil }
    }
}

/// Whether `pid` is (still) a `ferry client` child: they name themselves "ferry-client".
func isClientProcess(_ pid: Int32) -> Bool {
    let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
    return name.hasPrefix("ferry-client")
}

/// A loopback TCP port held by a socket of this test: bound only (connections are
/// refused) or listening without ever accepting (connections wait in the backlog).
final class BoundPort {
    let fd: Int32
    let number: Int

    init(listening: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, !listening || listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        self.fd = fd
        number = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}

/// An echo server that answers every request with `answerBytes` bytes of "x",
/// whatever was asked, on a thread of the test process.
final class MisbehavingEchoServer: @unchecked Sendable {
    let port: Int
    private let listener: BoundPort
    private let lock = NSLock()
    private var stopping = false
    private var count = 0
    private let finished = DispatchSemaphore(value: 0)

    /// Connections answered so far.
    var served: Int { lock.withLock { count } }

    init(answerBytes: Int) throws {
        listener = try BoundPort(listening: true)
        port = listener.number
        start(answer: [UInt8](repeating: UInt8(ascii: "x"), count: answerBytes))
    }

    private func start(answer: [UInt8]) {
        Thread.detachNewThread { [self] in
            while !lock.withLock({ stopping }) {
                var ready = pollfd(fd: listener.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 50) == 1 else { continue }
                let connection = accept(listener.fd, nil, nil)
                guard connection >= 0 else { continue }
                answerOne(connection, with: answer)
                close(connection)
                lock.withLock { count += 1 }
            }
            finished.signal()
        }
    }

    /// Reads the count line (bounded wait), then sends the fixed answer.
    private func answerOne(_ connection: Int32, with answer: [UInt8]) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while !request.contains(UInt8(ascii: "\n")) {
            let n = recv(connection, &chunk, chunk.count, 0)
            if n <= 0 { break }
            request += chunk[0..<n]
        }
        var offset = 0
        while offset < answer.count {
            let n = answer.withUnsafeBytes { send(connection, $0.baseAddress! + offset, answer.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    func stop() {
        lock.withLock { stopping = true }
        _ = finished.wait(timeout: .now() + 10)
    }
}
