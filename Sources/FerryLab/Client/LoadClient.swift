import CFerry
import FerryKit
import Glibc

/// What `ferry client` is asked to do.
public struct LoadClientOptions {
    public var host = "127.0.0.1"
    public var port = 2000
    /// Processes forked, each making its connections one after another.
    public var children = 5
    /// Connections per child.
    public var connections = 500
    /// Echo protocol: bytes asked for on each connection.
    public var bytes = 3000
    /// When set, each connection is an HTTP/1.0 GET of this path instead of an echo request.
    public var httpPath: String?
    /// Seconds each connect, send and receive may wait; a whole connection gets twice this at most.
    public var timeout = 10.0

    public init() {}
}

/// The csdesign document's load client (client.py): fork CHILDREN processes; each opens
/// CONNECTIONS connections one after another, asks for a payload, reads it to the
/// server's close, and closes. The parent collects each child's report over a pipe
/// and adds them up. Forks happen before any thread exists; children end with _exit.
public enum LoadClient {
    /// Runs the load and returns the totals. Each child hands "Child N is done" to
    /// `progress` (in the child process); `log` receives what went wrong with a child
    /// as a whole (it died, could not fork).
    public static func run(_ options: LoadClientOptions, progress: (String) -> Void,
                           log: (String) -> Void) throws -> LoadReport {
        let addresses = try SocketAddress.resolve(host: options.host, port: options.port)
        let parentPID = getpid()
        var children: [(pid: pid_t, results: Int32)] = []
        var report = LoadReport()
        let start = monotonicNanoseconds()

        for number in 0..<options.children {
            var ends: [Int32] = [-1, -1]
            // pipe2 is not in Swift's Glibc; this process has no threads, so nothing can
            // exec between pipe and fcntl.
            guard pipe(&ends) == 0 else {
                log("ferry client: \(SystemError("pipe")); \(number) children started")
                report.countAsFailed(connections: (options.children - number) * options.connections)
                break
            }
            ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
            let pid = fork()
            let forkError = SystemError("fork")
            if pid == 0 {
                close(ends[0])
                children.forEach { close($0.results) }
                runChild(number: number, options: options, addresses: addresses, parentPID: parentPID,
                         results: ends[1], progress: progress)
            }
            close(ends[1])
            guard pid > 0 else {
                log("ferry client: \(forkError); \(number) children started")
                close(ends[0])
                report.countAsFailed(connections: (options.children - number) * options.connections)
                break
            }
            children.append((pid, ends[0]))
        }

        for (number, child) in children.enumerated() {
            let bytes = readToEnd(child.results)
            close(child.results)
            var status: Int32 = 0
            while waitpid(child.pid, &status, 0) < 0 && errno == EINTR {}
            if let childReport = ChildReport.decode(bytes), status == 0 {
                report.add(childReport)
            } else {
                log("ferry client: child \(number) (pid \(child.pid)) \(describeExit(status)) without a report; "
                    + "its \(options.connections) connections count as failures")
                report.countAsFailed(connections: options.connections)
            }
        }
        report.wallNanoseconds = monotonicNanoseconds() - start
        return report
    }

    /// The exchange every connection of a child performs.
    static func makeExchange(_ options: LoadClientOptions) -> Exchange {
        if let path = options.httpPath {
            return HTTPExchange(path: path, hostField: HTTPExchange.hostField(host: options.host, port: options.port))
        }
        return EchoExchange(count: options.bytes)
    }

    /// The forked child: makes its connections, says it is done, sends its report to
    /// the parent, and exits.
    private static func runChild(number: Int, options: LoadClientOptions, addresses: [SocketAddress],
                                 parentPID: pid_t, results: Int32, progress: (String) -> Void) -> Never {
        // If the parent dies (killed, or the test harness gives up), so do we.
        ferry_set_parent_death_signal(SIGKILL)
        if getppid() != parentPID { _exit(1) }
        ferry_set_process_name("ferry-client")

        let exchange = makeExchange(options)
        let timeout = options.timeout.nanoseconds
        var report = ChildReport()
        report.latencies.reserveCapacity(options.connections)
        for _ in 0..<options.connections {
            let begin = monotonicNanoseconds()
            let deadline = begin + timeout
            var outcome: ExchangeOutcome
            var end: UInt64
            do throws(ExchangeFailure) {
                let connection = try ClientConnection(connectingTo: addresses, timeout: options.timeout,
                                                      deadline: deadline)
                outcome = exchange.run(on: connection)
                end = monotonicNanoseconds()  // the last byte (the server's close) has been read
                connection.close()
            } catch {
                outcome = ExchangeOutcome(failure: error)
                end = monotonicNanoseconds()
            }
            report.record(outcome, nanoseconds: end - begin)
        }
        progress("Child \(number) is done")
        _exit(writeFully(results, report.encoded()) ? 0 : 1)
    }

    /// Everything a pipe delivers until its writer closes.
    private static func readToEnd(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }
}
