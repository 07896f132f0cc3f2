import Foundation
import Glibc
import Testing
// AccessLogWriter and its arguments are SPI, which @testable alone does not show.
@_spi(Benchmarks) @testable import FerryKit

/// The access log's rotation on real files: `reopen()` (the parent) and `adopt(_:)`
/// (a worker given the parent's file) keep the descriptor number and move the lines.
@Suite struct AccessLogRotationTests {
    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func record(_ log: AccessLog, _ target: String) {
        let writer = AccessLogWriter(log: log, dates: DateHeaderCache())
        Array("GET \(target) HTTP/1.1".utf8).withUnsafeBytes { line in
            writer.record(peer: PeerAddress(SocketAddress()),
                          AccessLogFields(requestLine: line, status: 200, bytes: 5, referer: nil, userAgent: nil))
        }
    }

    @Test func reopenMovesLinesToTheNewFileBehindTheSameDescriptor() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let path = tree.at("access.log")
        let log = try AccessLog(.file(path))
        let descriptor = try #require(log.fileDescriptor)
        record(log, "/before")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        #expect(try log.reopen())
        #expect(log.fileDescriptor == descriptor)
        #expect(fcntl(descriptor, F_GETFD) & FD_CLOEXEC != 0)
        record(log, "/after")
        #expect(lines(path + ".1").count == 1 && lines(path + ".1")[0].contains("GET /before"))
        #expect(lines(path).count == 1 && lines(path)[0].contains("GET /after"))
        log.close()
    }

    @Test func adoptTakesTheParentsFileAndClosesTheCopy() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let log = try AccessLog(.file(tree.at("old.log")))
        let parentCopy = open(tree.at("new.log"), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        log.adopt(parentCopy)
        record(log, "/adopted")
        #expect(lines(tree.at("old.log")).isEmpty)
        #expect(lines(tree.at("new.log")).count == 1)
        log.close()
    }

    @Test func aReopenThatCannotOpenKeepsTheOldFile() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        try FileManager.default.createDirectory(atPath: tree.at("dir"), withIntermediateDirectories: true)
        let path = tree.at("dir/access.log")
        let log = try AccessLog(.file(path))
        try FileManager.default.moveItem(atPath: tree.at("dir"), toPath: tree.at("moved"))
        #expect(throws: SystemError("access log \(path)", code: ENOENT)) { try log.reopen() }
        record(log, "/still")
        #expect(lines(tree.at("moved/access.log")).count == 1)
        log.close()
    }

    @Test func standardOutputAndOffHaveNothingToReopen() throws {
        #expect(try AccessLog(.stdout).reopen() == false)
        #expect(try AccessLog(.off).reopen() == false)
        #expect(try AccessLog(.stdout).fileDescriptor == nil)
    }
}

/// Lines built into a buffer and written in whole-line batches.
@Suite struct AccessLogWriterTests {
    func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func record(_ writer: AccessLogWriter, line: String, agent: String? = nil) {
        Array(line.utf8).withUnsafeBytes { line in
            Array((agent ?? "").utf8).withUnsafeBytes { agentBytes in
                writer.record(peer: PeerAddress(SocketAddress()),
                              AccessLogFields(requestLine: line, status: 404, bytes: 0, referer: nil,
                                              userAgent: agent == nil ? nil : agentBytes))
            }
        }
    }

    @Test func gatheredLinesWaitForTheFlushAndLeaveTogether() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let log = try AccessLog(.file(tree.at("access.log")))
        defer { log.close() }
        let writer = AccessLogWriter(log: log, dates: DateHeaderCache(clock: { 784_111_777 }))
        writer.gathersLines = true
        record(writer, line: "GET /a HTTP/1.1")
        record(writer, line: "GET /b HTTP/1.1", agent: "x\"y\u{1B}")
        #expect(lines(tree.at("access.log")).isEmpty)
        writer.flush()
        #expect(lines(tree.at("access.log")) == [
            "- - - [06/Nov/1994:08:49:37 +0000] \"GET /a HTTP/1.1\" 404 - \"-\" \"-\"",
            "- - - [06/Nov/1994:08:49:37 +0000] \"GET /b HTTP/1.1\" 404 - \"-\" \"x\\x22y\\x1B\"",
        ])
    }

    @Test func withoutALoopEveryLineIsWrittenAtOnce() throws {
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let log = try AccessLog(.file(tree.at("access.log")))
        defer { log.close() }
        let writer = AccessLogWriter(log: log, dates: DateHeaderCache())
        record(writer, line: "GET /a HTTP/1.1")
        #expect(lines(tree.at("access.log")).count == 1)
    }

    @Test func aBatchForAPipeNeverExceedsPipeBufAndCutsAtLineEnds() throws {
        // A packet socket keeps each write apart, so the batches can be looked at one by one.
        var ends: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &ends) == 0)
        defer { close(ends[0]) }
        let tree = try TemporaryTree()
        defer { tree.remove() }
        let log = try AccessLog(.file(tree.at("access.log")))
        defer { log.close() }
        log.adopt(ends[1])
        let writer = AccessLogWriter(log: log, dates: DateHeaderCache())
        writer.gathersLines = true
        let target = String(repeating: "a", count: 900)
        for _ in 0..<20 { record(writer, line: "GET /\(target) HTTP/1.1") }
        writer.flush()
        var batches: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(ends[0], &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n > 0 else { break }
            batches.append(Array(buffer[..<n]))
        }
        #expect(batches.count > 1)
        #expect(batches.allSatisfy { $0.count <= 4096 && $0.last == UInt8(ascii: "\n") })
        #expect(batches.reduce(0) { $0 + $1.filter { $0 == UInt8(ascii: "\n") }.count } == 20)
    }
}

/// How often dropped lines are reported, on a clock the test moves.
@Suite struct LogFailureReportTests {
    final class Recorder: @unchecked Sendable {
        var now: UInt64 = 1_000
        var lines: [String] = []
    }

    @Test func theFirstFailureAtOnceThenACountAtMostOnceAMinute() {
        let recorder = Recorder()
        let report = LogFailureReport(name: "/x", clock: { recorder.now }, report: { recorder.lines.append($0) })
        for _ in 0..<1000 {
            report.dropped(code: ENOSPC)
            recorder.now += 10_000_000  // 10 ms a line: 1000 lines in 10 s
        }
        #expect(recorder.lines == ["ferry: access log /x: No space left on device "
                                   + "(dropping lines that cannot be written; reported at most once a minute)"])
        recorder.now += 50 * 1_000_000_000
        report.dropped(code: ENOSPC)
        #expect(recorder.lines.count == 2)
        #expect(recorder.lines.last == "ferry: access log /x: No space left on device (dropped 1000 lines in the last minute)")
        report.dropped(code: ENOSPC)
        #expect(recorder.lines.count == 2)
        report.reset()
        report.dropped(code: EACCES)
        #expect(recorder.lines.last?.hasPrefix("ferry: access log /x: Permission denied (dropping") == true)
    }
}
