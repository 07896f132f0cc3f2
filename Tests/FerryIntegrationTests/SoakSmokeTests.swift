import Foundation
import Testing

/// bench/soak --smoke against the ferry under test, so the soak cannot rot: 20 s of
/// mixed load (persistent small files, checked large downloads, single and multiple
/// ranges, trickling heads, malformed requests) with a worker killed every 2 s or so
/// and a SIGHUP reload every 6 s; it must end with no corrupted body, no unexplained
/// failure and no growth.
@Suite struct SoakSmokeTests {
    @Test func smokeRunEndsClean() throws {
        let result = try run(packageRoot + "/bench/soak", ["--smoke", "--ferry", ferryBinary], timeout: 120)
        let report = result.text
        #expect(result.status == 0, "bench/soak --smoke failed:\n\(report)\n\(result.stderr.suffix(2000))")
        #expect(report.contains("corrupted bodies: 0"), "\(report)")
        #expect(report.contains("unexplained: 0)"), "\(report)")
        #expect(report.contains("problems: none"), "\(report)")
        let kills = report.split(separator: "\n").first { $0.hasPrefix("kills: ") }
            .flatMap { Int($0.dropFirst(7).prefix { $0.isNumber }) } ?? 0
        #expect(kills >= 5, "\(report)")
        let reloads = report.range(of: "reloads: ").flatMap { Int(report[$0.upperBound...].prefix { $0.isNumber }) } ?? 0
        #expect(reloads >= 2, "\(report)")
        for kind in ["small", "large", "range", "ranges", "slow", "malformed"] {
            let line = report.split(separator: "\n").first { $0.hasPrefix("  \(kind) ") }
            let count = line.flatMap { Int($0.split(separator: " ").last?.replacingOccurrences(of: ",", with: "") ?? "") } ?? 0
            #expect(count > 0, "no \(kind) requests completed: \(report)")
        }
    }
}
