import Foundation
import Testing

private enum AccessLogSite: FixtureSite {
    static let content = "logged content\n"

    static func build(_ scratch: Scratch) throws {
        try scratch.write("root/file.txt", content)
        try scratch.sparse("root/large.bin", size: 64 << 20)
    }
}

/// The access log in Combined Log Format: the request line as received, the status,
/// and the body bytes that were actually sent. Tests share one server logging to
/// standard output and find their lines by a unique query or agent.
@Suite(.fixture("accesslog", site: AccessLogSite.self))
struct AccessLogTests {
    var server: FerryServer { Fixture.server }

    /// `host - - [dd/Mon/yyyy:hh:mm:ss +0000] "request line" status bytes "referer" "agent"`
    static let combined = try! NSRegularExpression(
        pattern: #"^127\.0\.0\.1 - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "(.*)" (\d{3}) (\d+|-) "(.*)" "(.*)"$"#)

    struct Entry {
        var requestLine: String
        var status: Int
        var bytes: String
        var referer: String
        var agent: String
    }

    /// The log line (waited for, bounded) that contains `marker`, parsed.
    func entry(containing marker: String, in process: FerryProcess? = nil) throws -> Entry {
        let process = process ?? server.ferry
        #expect(process.waitForOutput(marker, timeout: 10), "no log line with \(marker)")
        let line = try #require(process.output.split(separator: "\n").map(String.init).first { $0.contains(marker) })
        let match = try #require(Self.combined.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                                 "not Combined Log Format: \(line)")
        func group(_ index: Int) -> String { String(line[Range(match.range(at: index), in: line)!]) }
        return Entry(requestLine: group(1), status: Int(group(2))!, bytes: group(3), referer: group(4), agent: group(5))
    }

    @Test func curlRequestIsLoggedInFull() throws {
        let marker = UUID().uuidString
        let result = try run("curl", ["-sS", "-A", "agent-\(marker)", "-e", "http://referrer.example/page",
                                      server.base + "/file.txt?q=\(marker)"])
        #expect(result.text == AccessLogSite.content)
        let entry = try entry(containing: marker)
        #expect(entry.requestLine == "GET /file.txt?q=\(marker) HTTP/1.1")
        #expect(entry.status == 200)
        #expect(entry.bytes == String(AccessLogSite.content.utf8.count))
        #expect(entry.referer == "http://referrer.example/page")
        #expect(entry.agent == "agent-\(marker)")
    }

    @Test func headSendsNoBodyBytes() throws {
        let marker = UUID().uuidString
        _ = try request(server.port, "/file.txt?\(marker)", method: "HEAD")
        let entry = try entry(containing: marker)
        #expect(entry.requestLine == "HEAD /file.txt?\(marker) HTTP/1.0")
        #expect(entry.status == 200)
        #expect(entry.bytes == "-")
        #expect(entry.referer == "-" && entry.agent == "-")
    }

    @Test func errorPagesCountTheirBody() throws {
        let marker = UUID().uuidString
        let response = try request(server.port, "/missing-\(marker)")
        let entry = try entry(containing: marker)
        #expect(entry.status == 404)
        #expect(entry.bytes == String(response.body.count))
    }

    @Test func rangesCountTheRange() throws {
        let marker = UUID().uuidString
        _ = try request(server.port, "/file.txt?\(marker)", headers: ["Range: bytes=2-5"])
        let entry = try entry(containing: marker)
        #expect(entry.status == 206)
        #expect(entry.bytes == "4")
    }

    /// A request that could not be parsed is logged with its real request line.
    @Test func refusedRequestLineIsLogged() throws {
        let marker = UUID().uuidString
        _ = try exchange(server.port, "BREW /pot-\(marker) HTTP/1.0\r\n\r\n")
        #expect(try entry(containing: marker).requestLine == "BREW /pot-\(marker) HTTP/1.0")
        _ = try exchange(server.port, "GET /v-\(marker) HTTP/9.9\r\n\r\n")
        let version = try entry(containing: "/v-\(marker)")
        #expect(version.requestLine == "GET /v-\(marker) HTTP/9.9")
        #expect(version.status == 505)
    }

    /// Quotes and backslashes from the client cannot forge fields of the line.
    @Test func quotesAreEscaped() throws {
        let marker = UUID().uuidString
        _ = try request(server.port, "/q\"\(marker)\\x", headers: ["User-Agent: evil\" 200 1 \"x"])
        let entry = try entry(containing: marker)
        #expect(entry.requestLine == "GET /q\\x22\(marker)\\x5Cx HTTP/1.0")
        #expect(entry.agent == "evil\\x22 200 1 \\x22x")
        #expect(entry.status == 404)
    }

    /// A client that goes away mid-body: the log says how much was really sent, not
    /// the file size.
    @Test func abortedDownloadLogsTheBytesSent() throws {
        let marker = UUID().uuidString
        do {
            let client = try RawClient(port: server.port)
            client.send("GET /large.bin?\(marker) HTTP/1.0\r\n\r\n")
            _ = client.readHead()
            _ = client.read(count: 100_000)
            client.resetOnClose()
        }  // the client is closed here, with a RST
        let entry = try entry(containing: marker)
        #expect(entry.status == 200)
        let bytes = try #require(Int(entry.bytes))
        #expect(bytes >= 100_000 && bytes < 64 << 20, "\(bytes) bytes logged")
    }

    /// --access-log FILE appends there (and not to standard output); off logs nothing.
    @Test func accessLogToAFileOrOff() throws {
        let scratch = Fixture.scratch
        let logName = "access-\(UUID().uuidString).log"
        let logPath = scratch.at(logName)
        let toFile = try FerryServer(["--access-log", logPath, scratch.root])
        let marker = UUID().uuidString
        _ = try request(toFile.port, "/file.txt?\(marker)")
        #expect(waitUntil(timeout: 10) { String(decoding: scratch.read(logName), as: UTF8.self).contains(marker) })
        let output = toFile.stop().stdout
        #expect(!output.contains(marker))

        let off = try FerryServer(["--access-log", "off", scratch.root])
        _ = try request(off.port, "/file.txt?\(marker)")
        let quiet = off.stop()
        #expect(quiet.status == 0)
        #expect(!quiet.stdout.contains(marker))
        #expect(!quiet.stdout.contains("\"GET "))
    }
}
