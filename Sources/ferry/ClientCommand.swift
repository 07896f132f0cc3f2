import ArgumentParser
import FerryKit
import FerryLab

struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Load a server: forked children making connections one after another (the csdesign document's client.py).",
        discussion: """
            The client forks -c children. Each opens -t connections one after another: it \
            sends the byte count -b and a newline (the echo protocol), reads the answer \
            until the server closes, checks it is exactly -b bytes, and closes. With --http PATH \
            each connection is instead an HTTP/1.0 GET of PATH (with a Host header) that must \
            answer 200 and exactly Content-Length body bytes; -b is then ignored.

            A refused, reset or timed-out connection, a short or long answer, or (HTTP) another \
            status is counted as a failure, never a crash; the causes go to standard error. \
            Each child prints "Child N is done"; then the parent prints two lines, \
            "connections: C, failures: F, bytes: B, wall: S s, R connections/s" and \
            "latency p50 X ms, p99 Y ms, max Z ms". bytes counts answer bytes received (HTTP: \
            body bytes); latency runs from the start of connect(2) to the server's close, over \
            the successful connections (HdrHistogram, 3 significant digits). Exit status: 0 \
            when nothing failed, 1 when something did, 2 when the host does not resolve.

            With a demo (echo protocol):
              ferry demo prefork-pass -i 127.0.0.1 -p 2000 -n 10
              ferry client -i 127.0.0.1 -p 2000 -c 15 -t 100 -b 4096
              then Ctrl-C the demo to see how many connections each of its children served.

            With the file server (HTTP):
              ferry serve --host 127.0.0.1 --port 8080
              ferry client -p 8080 -c 5 -t 500 --http /index.html

            Echo connections are half-closed (shutdown SHUT_WR) right after the request, so the \
            client sends the first FIN and the TIME_WAIT states stay on the client, as the csdesign document \
            intends; HTTP connections are not (the server closes first, as HTTP/1.0 servers do). \
            A run that exhausts local ports counts "connect failed" failures.
            """
    )

    @Option(name: [.customShort("i"), .long], help: "Server host name or address (IPv4 or IPv6; 'localhost' tries 127.0.0.1 then ::1).")
    var host = "127.0.0.1"

    @Option(name: [.short, .long], help: "Server TCP port (the demos default to 2000; `ferry serve` prints its URL).")
    var port: Int

    @Option(name: [.short, .long], help: "Child processes forked, working in parallel (1-1024).")
    var children = 5

    @Option(name: [.customShort("t"), .long], help: "Connections each child makes, one after another (1-1000000).")
    var connections = 500

    @Option(name: [.short, .long], help: "Bytes asked for on each echo connection (0-1073741824; ignored with --http).")
    var bytes = 3000

    @Option(name: .long, help: ArgumentHelp("GET this path over HTTP/1.0 instead of the echo protocol (must start with '/').",
                                            valueName: "path"))
    var http: String?

    @Option(name: .long, help: "Seconds a connection may wait to connect, send or receive (0.001-3600); a connection also ends once this has passed since its connect began.")
    var timeout = 10.0

    func validate() throws {
        guard !host.isEmpty else { throw ValidationError("-i HOST must not be empty") }
        guard (1...65535).contains(port) else { throw ValidationError("-p must be from 1 to 65535") }
        guard (1...1024).contains(children) else { throw ValidationError("-c must be from 1 to 1024") }
        guard (1...1_000_000).contains(connections) else { throw ValidationError("-t must be from 1 to 1000000") }
        guard (0...EchoHandler.maximumCount).contains(bytes) else {
            throw ValidationError("-b must be from 0 to \(EchoHandler.maximumCount)")
        }
        guard timeout.isFinite, (0.001...3600).contains(timeout) else {
            throw ValidationError("--timeout must be from 0.001 to 3600 seconds")
        }
        if let http {
            guard http.hasPrefix("/") else { throw ValidationError("--http PATH must start with '/', e.g. --http /index.html") }
            guard http.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw ValidationError("--http PATH must not contain spaces or control characters; percent-encode them (%20)")
            }
        }
    }

    func run() throws {
        var options = LoadClientOptions()
        options.host = host
        options.port = port
        options.children = children
        options.connections = connections
        options.bytes = bytes
        options.httpPath = http
        options.timeout = timeout
        let report: LoadReport
        do {
            report = try LoadClient.run(options, progress: { Console.out($0) }, log: { Console.error($0) })
        } catch {
            Console.error("ferry client: \(error)")
            throw ExitCode(2)
        }
        report.summary.forEach(Console.out)
        if let causes = report.failureCauses {
            Console.error("ferry client: \(report.failures) of \(report.connections) connections failed: \(causes)")
            throw ExitCode(1)
        }
    }
}
