import Foundation
import Testing

/// `ferry bench` in seconds instead of minutes, so it cannot rot: every design, both
/// workloads, a table with a row each and no failures.
@Suite struct BenchSmokeTests {
    @Test func everyDesignRunsAndIsTabulated() throws {
        let result = try run(ferryBinary, ["bench", "-n", "3", "-c", "2", "-t", "10", "-b", "1000"],
                             timeout: 180, directory: packageRoot)
        #expect(result.status == 0, "\(result.stderr)\n\(result.text)")
        let rows = result.text.split(separator: "\n").filter { $0.hasPrefix("| ") && !$0.hasPrefix("| design") }
        let designs = ["iterative (baseline)", "fork per client", "prefork, children call accept",
                       "prefork, file lock around accept", "prefork, thread mutex around accept",
                       "prefork, descriptor passing", "thread per client", "prethreaded, mutex around accept",
                       "prethreaded, main thread accepts"]
        for design in designs {
            #expect(rows.contains { $0.hasPrefix("| \(design) |") }, "no row for \(design)")
        }
        #expect(result.text.contains("### echo protocol") && result.text.contains("### HTTP/1.0 GET"))
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(Double(cells[1]) ?? -1 > 0, "server CPU in \(row)")
            #expect(cells[5] == "0", "failures in \(row)")
        }
    }
}
