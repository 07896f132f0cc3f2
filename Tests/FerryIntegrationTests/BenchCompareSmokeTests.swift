import Foundation
import Testing

/// bench/compare --smoke against the ferry under test, so the comparison cannot rot:
/// it writes configs, starts and stops every installed server, runs each workload once on
/// a 16 MiB file with 1-second wrk runs, and fails on any mismatch, start failure or wrk
/// error on ferry.
@Suite struct BenchCompareSmokeTests {
    @Test func smokeRunMeasuresFerryOnEveryWorkload() throws {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("bench-smoke-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }

        let result = try run(packageRoot + "/bench/compare",
                             ["--smoke", "--ferry", ferryBinary, "--out", out], timeout: 90)
        #expect(result.status == 0, "bench/compare --smoke failed: \(result.stderr.suffix(2000))")
        #expect(result.text.contains("| ferry |"))
        #expect(result.text.contains("| ferry-copy |"))
        #expect(result.text.contains("| ferry-epoll |"))
        #expect(result.text.contains("| python |"))

        let json = try Data(contentsOf: URL(fileURLWithPath: out + "/compare.json"))
        let record = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let summary = try #require(record["summary"] as? [String: Any])
        for server in ["ferry", "ferry-copy", "ferry-epoll"] {
            let entry = try #require(summary[server] as? [String: Any], "no summary for \(server)")
            let stream = entry["stream"] as? [String: Any]
            let conn = (entry["conn"] as? [String: Any])?["32"] as? [String: Any]
            let parallel = entry["parallel"] as? [String: Any]
            #expect(median(stream?["mb_per_s"]) ?? 0 > 0, "\(server): no stream MB/s")
            #expect(median(stream?["cpu_s_per_gib"]) != nil, "\(server): no stream CPU")
            #expect(median(conn?["requests_per_s"]) ?? 0 > 0, "\(server): no conn requests/s")
            #expect(median(conn?["cpu_us_per_request"]) != nil, "\(server): no conn CPU")
            #expect(conn?["errors"] as? Int == 0, "\(server): conn errors")
            #expect(median(parallel?["mb_per_s"]) ?? 0 > 0, "\(server): no parallel MB/s")
            #expect(entry["integrity"] as? Bool == true, "\(server): integrity")
        }
        #expect(FileManager.default.fileExists(atPath: out + "/compare.md"))
    }

    /// The "median" of a {median, min, max} entry in the JSON summary.
    private func median(_ entry: Any?) -> Double? {
        ((entry as? [String: Any])?["median"] as? NSNumber)?.doubleValue
    }
}
