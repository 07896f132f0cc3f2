import Foundation
import Testing

/// bench/slow-storage --smoke --faults against the ferry under test: it mounts slow
/// storage (a FUSE passthrough sleeping 30 ms per read call) and, for Ferry with sendfile
/// and with --copy (and nginx with aio threads when installed), one worker each, measures
/// a 9-byte hot file's latency alone and while a 16 MiB cold file downloads. It must print
/// its table with a row per Ferry mode whose download arrived intact, show that the hot
/// file never left the page cache, and meet the goal: the hot client's p99 during the
/// cold download within 2x of its p99 alone (a cold read never stalls the worker). Then
/// a cold file is truncated, and another deleted, on the storage while Ferry reads it, in
/// both modes: the worker goes on and no foreign byte reaches the client.
@Suite struct SlowStorageBenchTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/fuse"), "needs FUSE (/dev/fuse)"))
    func smokeRunPrintsTheTable() throws {
        // A floor of 14 ms under p99 alone: noise on a busy machine cannot fail the goal,
        // one blocked 30 ms read still does (2 x 14 < 30). Over some 60 requests the p99
        // is the slowest, which the rest of the suite alone made 118 ms once: the goal is
        // judged again without it, while a worker that blocks on reads delays many
        // (bench/README.md, the goal).
        let arguments = ["--smoke", "--faults", "--ferry", ferryBinary, "--require-goal",
                         "--noise-floor-ms", "14", "--outliers", "1"]
        let result = try run(packageRoot + "/bench/slow-storage", arguments, timeout: 300)
        let report = result.text
        // Only root can install fuse3 and the binding; the script then names the commands.
        if report.hasPrefix("bench/slow-storage: skipped:") && getuid() != 0 {
            print("SlowStorageBenchTests: not run: \(report.split(separator: "\n").first ?? "")")
            return
        }
        #expect(result.status == 0, "bench/slow-storage --smoke failed:\n\(report)\n\(result.stderr.suffix(2000))")
        #expect(report.contains("| server | hot request alone, p50 / p99 | during the cold download, p50 / p99 |"),
                "no table:\n\(report)")
        let lines = report.split(separator: "\n")
        for label in ["Ferry (sendfile)", "Ferry --copy"] {
            let rows = lines.filter { $0.hasPrefix("| \(label) | ") }
            #expect(rows.count == 2, "\(label): no latency and storage rows:\n\(report)")
            #expect(rows.first?.hasSuffix("| intact |") == true, "\(label): download not intact:\n\(report)")
            #expect(rows.last?.hasSuffix("| 0 |") == true, "\(label): the hot file was read from storage:\n\(report)")
            #expect(lines.contains { $0.hasPrefix("- \(label): p99 ") }, "\(label): no verdict:\n\(report)")
        }
        #expect(report.contains("verdict: goal "), "no verdict:\n\(report)")
        for mode in ["ferry", "ferry-copy"] {
            for fault in ["truncated", "deleted"] {
                #expect(lines.contains("- \(mode) \(fault): ok"), "\(mode) \(fault):\n\(report)")
            }
        }
    }
}
