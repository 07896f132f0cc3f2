import Foundation
import Testing

/// "The client.py can be used with all the servers": the csdesign document's client
/// sends the count as bare digits in one write, with no newline and no shutdown, and
/// expects exactly that many bytes back. Every echo demo must answer it; and
/// `ferry client` must work against a server written the document's way (one recv,
/// then int()).
@Suite struct CsdesignClientTests {
    /// Every echo server design, with its variants.
    static let demos: [[String]] = [
        ["iterative"], ["fork"], ["select"], ["poll"], ["epoll"], ["thread"],
        ["prethread", "-n", "3"], ["prethread", "-n", "3", "--main-accept"],
        ["prefork-accept", "-n", "3"], ["prefork-accept", "-n", "3", "--lock", "file"],
        ["prefork-accept", "-n", "3", "--lock", "mutex"],
        ["prefork-pass", "-n", "3"],
    ]

    /// What one connection made the csdesign way came to.
    struct Exchange {
        var answer: [UInt8] = []
        /// The server closed right after the answer (nothing more came).
        var closed = false
        var seconds = 0.0
    }

    /// One connection as client.py makes it: `text` in one write, nothing else sent,
    /// no shutdown; then reads until `expected` bytes came, the server closed, or
    /// `timeout` passed; then checks that the server closes without sending more.
    func exchange(port: Int, sending text: String, expected: Int, timeout: Double = 5) throws -> Exchange {
        let start = Date()
        let client = try RawClient(port: port, receiveTimeout: timeout)
        client.send(text)
        var result = Exchange()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while result.answer.count < expected && Date().timeIntervalSince(start) < timeout {
            let n = recv(client.fd, &chunk, min(chunk.count, expected - result.answer.count), 0)
            if n <= 0 { break }
            result.answer += chunk[0..<n]
        }
        result.closed = recv(client.fd, &chunk, 1, 0) == 0
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// Demo lines like "child 0 : 3 times", summed.
    static func served(_ stdout: String) -> Int {
        stdout.split(separator: "\n").filter { $0.hasSuffix(" times") }
            .compactMap { Int($0.split(separator: " ").dropLast().last ?? "") }.reduce(0, +)
    }

    static let counts = [0, 1, 1000, 4096, 100_000]

    @Test(arguments: demos)
    func everyDemoAnswersBareDigits(_ demo: [String]) throws {
        let server = try FerryProcess(["demo"] + demo + ["-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())
        for round in 0..<4 {
            for count in Self.counts {
                let result = try exchange(port: port, sending: "\(count)", expected: count)
                #expect(result.answer.count == count, "round \(round), \(count) bytes: got \(result.answer.count)")
                #expect(result.answer.allSatisfy { $0 == UInt8(ascii: "x") })
                #expect(result.closed, "\(count): the server closes after the answer")
                // Far below the 30 s request timeout: the count was not waited out.
                #expect(result.seconds < 3, "\(count): \(result.seconds) s")
            }
        }
        let stopped = server.stop(signal: SIGINT)
        #expect(stopped.status == 0, "\(stopped.stderr)")
        #expect(Self.served(stopped.stdout) == 4 * Self.counts.count, "\(stopped.stdout)")
    }

    /// The other ends of a count, and what is refused, under a blocking model and an
    /// event loop (the two drivers).
    @Test(arguments: [["prefork-pass", "-n", "2"], ["epoll"]])
    func theCountsOtherEndsAndRefusals(_ demo: [String]) throws {
        let server = try FerryProcess(["demo"] + demo + ["-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())

        #expect(try exchange(port: port, sending: "12\n", expected: 12).answer.count == 12)
        #expect(try exchange(port: port, sending: " 12\r\n", expected: 12).answer.count == 12)

        // End of input: the digits, then a half-close.
        let halfClosed = try RawClient(port: port, receiveTimeout: 5)
        halfClosed.send("7")
        shutdown(halfClosed.fd, Int32(SHUT_WR))
        #expect(halfClosed.readAll() == Array("xxxxxxx".utf8))

        // A count that trickles in is read as what arrived first, as by a server that
        // reads it with one recv: "1", then "000" later, asks for 1 byte.
        let trickle = try RawClient(port: port, receiveTimeout: 5)
        trickle.send("1")
        usleep(300_000)
        trickle.send("000")
        #expect(trickle.readAll() == Array("x".utf8))

        // Refused by closing without an answer, and said why on the server's stderr.
        for bad in ["abc", "12a\n", "-5\n", String(repeating: " ", count: 25)] {
            let result = try exchange(port: port, sending: bad, expected: 1)
            #expect(result.answer.isEmpty, "\(bad.debugDescription)")
            #expect(result.seconds < 3, "\(bad.debugDescription): \(result.seconds) s")
        }
        #expect(server.waitForErrors("not a decimal byte count", timeout: 5), "\(server.errors)")
        #expect(server.waitForErrors("more than 20 bytes without a newline", timeout: 5), "\(server.errors)")
        let stopped = server.stop(signal: SIGINT)
        #expect(stopped.status == 0, "\(stopped.stderr)")
    }

    /// The client.py stand-in (Tests/Fixtures/csdesign/client.py: forks, bare digits,
    /// one recv) with the document's kind of parameters, against a few designs.
    @Test(arguments: [["prefork-accept", "-n", "10"], ["iterative"], ["epoll"], ["thread"],
                      ["prefork-pass", "-n", "3"]])
    func csdesignClientScript(_ demo: [String]) throws {
        let server = try FerryProcess(["demo"] + demo + ["-i", "127.0.0.1", "-p", "0"])
        let port = try #require(server.announcedPort())
        let script = packageRoot + "/Tests/Fixtures/csdesign/client.py"
        let start = Date()
        let result = try run("/usr/bin/env", ["python3", script, "-i", "127.0.0.1", "-p", "\(port)",
                                              "-c", "2", "-t", "3", "-b", "1000"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.contains("Child 0 is done") && result.text.contains("Child 1 is done"), "\(result.text)")
        #expect(Date().timeIntervalSince(start) < 10)
        let stopped = server.stop(signal: SIGINT)
        #expect(Self.served(stopped.stdout) == 6, "\(stopped.stdout)")
    }

    /// A server written the document's way: one recv(1024), int(), sendall, close;
    /// `int()` fails (and the script exits 1) unless what `ferry client` sends parses.
    static let documentStyleServer = """
        import os, socket, sys
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        print("listening on 127.0.0.1:%d" % listener.getsockname()[1], flush=True)
        for _ in range(int(sys.argv[1])):
            connection, _ = listener.accept()
            count = int(connection.recv(1024))
            connection.sendall(os.urandom(count))
            connection.close()
        print("served", flush=True)
        """

    @Test func ferryClientAgainstADocumentStyleServer() throws {
        let server = try FerryProcess(["python3", "-c", Self.documentStyleServer, "10"],
                                      executable: "/usr/bin/env")
        let port = try #require(server.announcedPort(), "\(server.errors)")
        let result = try run(ferryBinary, ["client", "-i", "127.0.0.1", "-p", "\(port)",
                                           "-c", "2", "-t", "5", "-b", "3000"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try #require(ClientSummary(result.text), "\(result.text)")
        #expect(summary.connections == 10)
        #expect(summary.failures == 0)
        #expect(summary.bytes == 10 * 3000)
        let finished = server.wait(timeout: 10)
        #expect(finished.status == 0, "int() refused what ferry client sent: \(finished.stderr)")
        #expect(finished.stdout.contains("served"))
    }
}
