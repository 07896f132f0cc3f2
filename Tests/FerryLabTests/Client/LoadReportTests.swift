import Testing
@testable import FerryLab

@Suite struct LoadReportTests {
    @Test func formatsTheSummaryInTheDocumentedShape() {
        var report = LoadReport()
        report.connections = 2500
        report.bytes = 7_500_000
        report.wallNanoseconds = 1_234_000_000
        report.recordLatency(nanoseconds: 412_000)
        #expect(report.summary == [
            "connections: 2500, failures: 0, bytes: 7500000, wall: 1.234 s, 2025.9 connections/s",
            "latency p50 0.412 ms, p99 0.412 ms, max 0.412 ms",
        ])
        #expect(report.failureCauses == nil)
    }

    @Test func countsFailuresInTheSummaryAndNamesTheirCauses() {
        var report = LoadReport()
        report.connections = 10
        report.wallNanoseconds = 2_000_000_000
        report.recordFailures(.short, count: 2)
        report.recordFailures(.refused, count: 7)
        report.recordFailures(.timeout, count: 0)
        #expect(report.failures == 9)
        #expect(report.summary[0] == "connections: 10, failures: 9, bytes: 0, wall: 2.000 s, 5.0 connections/s")
        #expect(report.failureCauses == "7 connection refused, 2 short answer")
    }

    @Test func printsZeroLatencyWhenNothingSucceeded() {
        var report = LoadReport()
        report.connections = 3
        report.recordFailures(.refused, count: 3)
        #expect(report.summary == [
            "connections: 3, failures: 3, bytes: 0, wall: 0.000 s, 0.0 connections/s",
            "latency p50 0.000 ms, p99 0.000 ms, max 0.000 ms",
        ])
    }

    @Test func extractsPercentilesWithinTheHistogramsPrecision() {
        var report = LoadReport()
        // 1 µs ... 1000 µs, once each: p50 is 500 µs, p99 990 µs, max 1000 µs.
        for microseconds in UInt64(1)...1000 { report.recordLatency(nanoseconds: microseconds * 1000) }
        let (p50, p99, max) = report.percentiles
        #expect(p50 >= 500_000 && p50 <= 500_500)
        #expect(p99 >= 990_000 && p99 <= 991_000)
        #expect(max == 1_000_000)
        #expect(report.summary[1] == "latency p50 0.500 ms, p99 0.990 ms, max 1.000 ms")
    }

    @Test func aTailOfSlowConnectionsShowsInP99AndMaxOnly() {
        var report = LoadReport()
        for _ in 0..<990 { report.recordLatency(nanoseconds: 300_000) }
        for _ in 0..<10 { report.recordLatency(nanoseconds: 12_301_000) }
        #expect(report.summary[1] == "latency p50 0.300 ms, p99 0.300 ms, max 12.301 ms")
        report.recordLatency(nanoseconds: 12_301_000)
        #expect(report.summary[1] == "latency p50 0.300 ms, p99 12.301 ms, max 12.301 ms")
    }

    @Test func clampsLatenciesBeyondTheHistogramsRange() {
        var report = LoadReport()
        report.recordLatency(nanoseconds: .max)
        #expect(report.percentiles.max == LoadReport.highestLatency)
    }

    @Test func addsChildReports() {
        var first = ChildReport()
        first.record(ExchangeOutcome(bytes: 3000), nanoseconds: 100_000)
        first.record(ExchangeOutcome(bytes: 10, failure: .short), nanoseconds: 50_000)
        var second = ChildReport()
        second.record(ExchangeOutcome(bytes: 3000), nanoseconds: 300_000)
        var report = LoadReport()
        report.add(first)
        report.add(second)
        #expect(report.connections == 3)
        #expect(report.bytes == 6010)
        #expect(report.failuresByCause == [.short: 1])
        #expect(report.latency.totalCount == 2)
        #expect(report.percentiles.max == 300_000)
    }

    @Test func roundsDecimalsToTheNearest() {
        #expect(LoadReport.milliseconds(0) == "0.000")
        #expect(LoadReport.milliseconds(412_499) == "0.412")
        #expect(LoadReport.milliseconds(412_500) == "0.413")
        #expect(LoadReport.milliseconds(12_301_000) == "12.301")
        #expect(LoadReport.milliseconds(999_999_999) == "1000.000")
        #expect(LoadReport.decimal(20261, unit: 10, places: 1) == "2026.1")
        #expect(LoadReport.decimal(5, unit: 10, places: 1) == "0.5")
        #expect(LoadReport.decimal(1_234_567_890, unit: 1_000_000_000, places: 3) == "1.235")
    }
}
