import Foundation
import Testing

/// The measuring demos (cork, sendfile, herd) run against the real kernel: their
/// tables must hold numbers that mean what they say, and nothing they fork may
/// outlive them.
@Suite struct MeasureDemoTests {
    @Test func corkSendsFewerSegmentsThanNoDelay() throws {
        let (status, output, errors, leftovers) = try runDemo(["demo", "cork", "--rounds", "10"])
        #expect(status == 0, "stderr: \(errors)")
        #expect(leftovers.isEmpty, "processes left behind: \(leftovers)")
        let rows = table(in: output, firstHeader: "mode")
        for connection in ["new per response", "one for all"] {
            let cork = rows.first { $0["mode"] == "TCP_CORK" && $0["connection"] == connection }
            let noDelay = rows.first { $0["mode"] == "TCP_NODELAY" && $0["connection"] == connection }
            let nagle = rows.first { $0["mode"] == "neither (Nagle)" && $0["connection"] == connection }
            let corkSegments = try #require(cork.flatMap { Int($0["segments"] ?? "") }, "\(output)")
            let noDelaySegments = try #require(noDelay.flatMap { Int($0["segments"] ?? "") }, "\(output)")
            #expect(nagle.flatMap { Int($0["segments"] ?? "") } != nil, "\(output)")
            #expect(corkSegments >= 10, "at least one segment per response: \(output)")
            #expect(corkSegments < noDelaySegments, "\(output)")
            // Both modes send the same bytes; only their packaging differs.
            #expect(cork?["bytes"] == noDelay?["bytes"])
        }
    }

    @Test func sendfileComparesBothModesOnAFile() throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("ferry-sendfile-\(getpid())-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 64 << 20)
        try handle.close()

        let (status, output, errors, leftovers) = try runDemo(["demo", "sendfile", path, "--repeat", "1"])
        #expect(status == 0, "stderr: \(errors)")
        #expect(leftovers.isEmpty, "processes left behind: \(leftovers)")
        let rows = table(in: output, firstHeader: "mode")
        #expect(rows.map { $0["mode"] } == ["sendfile", "read/write 64 KiB"], "\(output)")
        for row in rows {
            let wall = try #require(Double(row["wall s"] ?? ""), "\(output)")
            #expect(wall > 0)
            #expect(Double(row["sender cpu s"] ?? "") != nil, "\(output)")
            #expect((Double(row["MB/s"] ?? "") ?? 0) > 0, "\(output)")
        }
    }

    @Test func sendfileRefusesAMissingFileInOneLine() throws {
        let (status, output, errors, _) = try runDemo(["demo", "sendfile", "/nonexistent/ferry-big"])
        #expect(status == 1)
        #expect(output.isEmpty)
        let lines = errors.split(separator: "\n")
        #expect(lines.count == 1, "\(errors)")
        #expect(errors.contains("/nonexistent/ferry-big: No such file or directory"), "\(errors)")
    }

    @Test func herdCountsEveryVariantAndAcceptsEveryConnection() throws {
        let (status, output, errors, leftovers) = try runDemo(["demo", "herd", "-n", "3", "--connections", "60"])
        #expect(status == 0, "stderr: \(errors)")
        #expect(leftovers.isEmpty, "processes left behind: \(leftovers)")
        let rows = table(in: output, firstHeader: "variant")
        let variants = ["blocking accept", "select", "epoll", "epoll EPOLLEXCLUSIVE", "SO_REUSEPORT"]
        #expect(rows.map { $0["variant"] ?? "" } == variants, "\(output)")
        for row in rows {
            #expect(row["conns"] == "60", "\(output)")
            #expect(row["accepts"] == "60", "accepts must sum to the connections made: \(output)")
            let wakeups = try #require(Int(row["wakeups"] ?? ""), "\(output)")
            let wasted = try #require(Int(row["wasted"] ?? ""), "\(output)")
            #expect(wakeups == 60 + wasted, "every wakeup either accepted or was wasted: \(output)")
            #expect(Int(row["sleeps"] ?? "") != nil, "\(output)")
        }
        // Linux wakes one blocking accept(2) waiter per connection.
        #expect(rows.first?["wasted"] == "0", "\(output)")
    }

    // MARK: helpers

    /// Runs `ferry ARGS` to its end (at most 60 s). Foundation starts it in a process
    /// group of its own, so anything it forked and left alive is still in that group.
    private func runDemo(_ arguments: [String]) throws
        -> (status: Int32, stdout: String, stderr: String, leftovers: [Int32]) {
        let ferry = try FerryProcess(arguments)
        let group = ferry.pid
        let (status, stdout, stderr) = ferry.wait(timeout: 60)
        return (status, stdout, stderr, processes(inGroup: group))
    }

    /// Live processes whose process group is `group` (from /proc/PID/stat).
    private func processes(inGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let end = stat.range(of: ")", options: .backwards) else { return false }
            // After "pid (comm)": state, ppid, pgrp.
            let fields = stat[end.upperBound...].split(separator: " ")
            return fields.count > 2 && Int32(fields[2]) == group && fields[0] != "Z"
        }
    }

    /// The demo's table as rows keyed by column header: columns are separated by two
    /// or more spaces (cells hold single spaces only). Starts at the line whose first
    /// cell is `firstHeader`, ends at the first blank line.
    private func table(in output: String, firstHeader: String) -> [[String: String]] {
        let cells = { (line: Substring) in
            line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { cells($0).first == firstHeader }) else { return [] }
        let header = cells(lines[start])
        var rows: [[String: String]] = []
        for line in lines[(start + 1)...] {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            rows.append(Dictionary(zip(header, cells(line)), uniquingKeysWith: { first, _ in first }))
        }
        return rows
    }
}
