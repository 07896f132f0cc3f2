import Testing
@testable import FerryLab

@Suite struct ChildReportTests {
    static func sample() -> ChildReport {
        var report = ChildReport()
        report.record(ExchangeOutcome(bytes: 3000), nanoseconds: 412_000)
        report.record(ExchangeOutcome(bytes: 0, failure: .refused), nanoseconds: 20_000)
        report.record(ExchangeOutcome(bytes: 1200, failure: .short), nanoseconds: 900_000)
        report.record(ExchangeOutcome(bytes: 3000), nanoseconds: 1_905_000)
        return report
    }

    @Test func recordsSuccessesAsLatenciesAndFailuresByCause() {
        let report = Self.sample()
        #expect(report.connections == 4)
        #expect(report.bytes == 7200)
        #expect(report.failures == 2)
        #expect(report.failuresByCause[ExchangeFailure.refused.rawValue] == 1)
        #expect(report.failuresByCause[ExchangeFailure.short.rawValue] == 1)
        #expect(report.latencies == [412_000, 1_905_000])
    }

    @Test func survivesThePipe() {
        let report = Self.sample()
        #expect(ChildReport.decode(report.encoded()) == report)
        #expect(ChildReport.decode(ChildReport().encoded()) == ChildReport())
    }

    @Test func rejectsAReportCutShort() {
        let bytes = Self.sample().encoded()
        #expect(ChildReport.decode([]) == nil)
        #expect(ChildReport.decode(Array(bytes.dropLast(8))) == nil)
        #expect(ChildReport.decode(Array(bytes.dropLast(3))) == nil)
        #expect(ChildReport.decode(bytes + [0, 0, 0, 0, 0, 0, 0, 0]) == nil)
    }
}
