import Foundation
import Testing

/// bench/compare --smoke against the ferry under test, so the comparison cannot rot:
/// it writes configs, starts and stops every installed server, runs each workload once on
/// a 16 MiB file with 1-second wrk runs, 200 idle connections and 50 trickling ones,
/// counts the system calls (and ferry's heap allocations) of 1,000 kept requests on one
/// worker, and fails on any mismatch, start failure or wrk error on ferry.
@Suite struct BenchCompareSmokeTests {
    @Test func smokeRunMeasuresFerryOnEveryWorkload() throws {
        let out = FileManager.default.temporaryDirectory
            .appendingPathComponent("bench-smoke-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }

        let result = try run(packageRoot + "/bench/compare",
                             ["--smoke", "--ferry", ferryBinary, "--out", out], timeout: 180)
        #expect(result.status == 0, "bench/compare --smoke failed: \(result.stderr.suffix(2000))")
        #expect(result.text.contains("| ferry |"))
        #expect(result.text.contains("| ferry-copy |"))
        #expect(result.text.contains("| ferry-epoll |"))
        #expect(result.text.contains("| ferry-classic |"))
        #expect(result.text.contains("| python |"))
        #expect(result.text.contains("## targets (issue 8"))
        #expect(result.text.contains("## cost — system calls and heap allocations per kept"))
        #expect(result.text.contains("## cost of a new connection"))
        #expect(result.text.contains("## targets (the cost of a request"))

        let json = try Data(contentsOf: URL(fileURLWithPath: out + "/compare.json"))
        let record = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let summary = try #require(record["summary"] as? [String: Any])
        for server in ["ferry", "ferry-copy", "ferry-epoll", "ferry-classic"] {
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
            #expect(median(parallel?["opens_per_request"]) != nil, "\(server): no parallel reuse count")
            let keepalive = entry["keepalive"] as? [String: Any]
            #expect(median(keepalive?["requests_per_s"]) ?? 0 > 0, "\(server): no keepalive requests/s")
            #expect(median(keepalive?["opens_per_request"]) != nil, "\(server): no keepalive reuse count")
            #expect(keepalive?["errors"] as? Int == 0, "\(server): keepalive errors")
            #expect(entry["integrity"] as? Bool == true, "\(server): integrity")
        }
        for server in ["ferry", "ferry-epoll", "ferry-classic"] {
            let entry = try #require(summary[server] as? [String: Any])
            let idle = try #require(entry["idle"] as? [String: Any], "\(server): no idle connections")
            let answered = idle["answered"] as? Int ?? 0
            if server == "ferry-classic" {
                // UNP's design: an idle keep-alive connection holds a whole worker, so at
                // most max_workers (64) are answered; the rest wait in the backlog.
                #expect(answered > 0 && answered <= 64, "\(server): \(answered) idle connections answered")
            } else {
                #expect(answered == 200, "\(server): idle connections not all answered")
            }
            let held = idle["held"] as? Int ?? -1, closed = idle["closed"] as? Int ?? -1
            #expect(held >= 0 && held + closed == answered, "\(server): held \(held) + closed \(closed)")
            let slow = try #require(entry["slow"] as? [String: Any], "\(server): no slow clients")
            let alone = slow["baseline"] as? [String: Any], attacked = slow["attack"] as? [String: Any]
            #expect(alone?["ok"] as? Int ?? 0 > 0, "\(server): the normal client got no answer alone")
            #expect(attacked?["requests"] as? Int ?? 0 > 0, "\(server): no requests beside the attack")
            let states = slow["attack_at_end"] as? [String: Int] ?? [:]
            let counted = ["open", "answered", "connecting", "closed", "reset", "failed", "not started"]
                .reduce(0) { $0 + (states[$1] ?? 0) }
            #expect(counted == 50, "\(server): attack connections \(states)")
        }
        try checkCost(record, summary)
        let copy = try #require(summary["ferry-copy"] as? [String: Any])
        #expect(copy["idle"] is NSNull, "ferry-copy holds connections as ferry does: not run twice")
        #expect(FileManager.default.fileExists(atPath: out + "/compare.md"))
    }

    /// The cost workloads ran for ferry: system calls per request, by name, over kept
    /// connections and over a connection per request; heap allocations too, unless perf
    /// could not count them here (said why).
    private func checkCost(_ record: [String: Any], _ summary: [String: Any]) throws {
        let run = (record["meta"] as? [String: Any])?["cost"] as? [String: Any]
        #expect(run?["skipped"] is NSNull, "cost workload not run: \(run?["skipped"] ?? "no record")")
        let ferry = try #require(summary["ferry"] as? [String: Any])
        for key in ["cost", "cost_new"] {
            let cost = try #require(ferry[key] as? [String: Any], "ferry: no \(key)")
            let calls = (cost["syscalls_per_request"] as? NSNumber)?.doubleValue ?? 0
            #expect(calls > 0, "ferry \(key): \(calls) system calls per request")
            let byName = cost["per_request"] as? [String: Any] ?? [:]
            #expect(!byName.isEmpty, "ferry \(key): no calls by name")
            #expect(cost["epoll_wait_per_request"] is NSNumber, "ferry \(key): no epoll_wait count")
            if let skipped = cost["mallocs_skipped"] as? String {
                print("BenchCompareSmokeTests: ferry's heap allocations per request not checked: \(skipped)")
            } else {
                #expect(cost["mallocs_per_request"] is NSNumber, "ferry \(key): no heap allocations per request")
            }
            if key == "cost" {
                #expect(cost["kept"] as? Int == cost["requests"] as? Int, "ferry: not every request kept \(cost)")
            } else {
                // A connection per request, the parent counted: it accepts every one.
                #expect(cost["kept"] as? Int == 0, "ferry: requests kept in cost_new \(cost)")
                let accepts = (byName["accept4"] as? NSNumber)?.doubleValue ?? 0
                #expect(accepts >= 1, "ferry cost_new: \(accepts) accept4 per connection (the parent not counted?)")
            }
        }
    }

    /// The "median" of a {median, min, max} entry in the JSON summary.
    private func median(_ entry: Any?) -> Double? {
        ((entry as? [String: Any])?["median"] as? NSNumber)?.doubleValue
    }
}
