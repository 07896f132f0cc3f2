import Testing
@testable import FerryKit

@Suite struct HTTPDateTests {
    /// 1994-11-06T08:49:37Z, RFC 9110's example.
    static let example: Int64 = 784_111_777
    /// 2025-06-01T00:00:00Z, a fixed "now" for two-digit years.
    static let now: Int64 = 1_748_736_000

    @Test func formatsIMFFixdate() {
        #expect(HTTPDate.format(Self.example) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(-1) == "Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDate.format(4_102_444_800) == "Fri, 01 Jan 2100 00:00:00 GMT")
    }

    @Test func formatsTheFirstAndLastSupportedSeconds() {
        #expect(HTTPDate.format(-62_135_596_800) == "Mon, 01 Jan 0001 00:00:00 GMT")
        #expect(HTTPDate.format(253_402_300_799) == "Fri, 31 Dec 9999 23:59:59 GMT")
    }

    /// CVE-2020-25691: extreme mtimes must not crash the server.
    @Test(arguments: [253_402_300_800, -62_135_596_801, Int64.max, Int64.min, Int64.max / 2, Int64.min / 2])
    func refusesYearsOutsideOneToNineThousandNineHundredNinetyNine(_ seconds: Int64) {
        #expect(HTTPDate.format(seconds) == nil)
    }

    @Test(arguments: [
        "Sun, 06 Nov 1994 08:49:37 GMT",   // IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  // RFC 850
        "Sun Nov  6 08:49:37 1994",        // asctime
    ])
    func parsesAllThreeFormats(_ text: String) {
        #expect(HTTPDate.parse(text) == Self.example)
        #expect(HTTPDate.parse(text, now: Self.now) == Self.example)
    }

    @Test func parsesTwoDigitAsctimeDaysAndLeapSeconds() {
        #expect(HTTPDate.parse("Wed Nov 16 08:49:37 1994") == Self.example + 10 * 86_400)
        #expect(HTTPDate.parse("Sat, 31 Dec 2016 23:59:60 GMT") == 1_483_228_800)
        #expect(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT") == 951_782_400)
    }

    @Test func roundTrips() {
        for seconds in stride(from: Int64(-62_135_596_800), through: 253_402_300_799, by: 987_654_321) {
            guard let text = HTTPDate.format(seconds) else {
                Issue.record("\(seconds) did not format")
                continue
            }
            #expect(HTTPDate.parse(text) == seconds, "\(text)")
        }
    }

    @Test(arguments: [
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,  06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 31 Feb 1994 08:49:37 GMT",   // no such day
        "Sun, 29 Feb 1900 08:49:37 GMT",   // 1900 is not a leap year
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",   // year 0
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 06 Xyz 1994 08:49:37 GMT",
        "Abc, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 06 08:49:37 1994 GMT",
        "1994-11-06T08:49:37Z",
        "784111777",
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",
    ])
    func rejectsInvalidDates(_ text: String) {
        #expect(HTTPDate.parse(text) == nil)
    }

    /// RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century.
    @Test func readsTwoDigitYearsRelativeToNow() {
        #expect(HTTPDate.fullYear(94, currentYear: 2025) == 1994)
        #expect(HTTPDate.fullYear(25, currentYear: 2025) == 2025)
        #expect(HTTPDate.fullYear(30, currentYear: 2025) == 2030)
        #expect(HTTPDate.fullYear(75, currentYear: 2025) == 2075)
        #expect(HTTPDate.fullYear(76, currentYear: 2025) == 1976)
        #expect(HTTPDate.fullYear(0, currentYear: 2025) == 2000)
        #expect(HTTPDate.fullYear(10, currentYear: 2090) == 2110)
        #expect(HTTPDate.parse("Thursday, 01-Jan-76 00:00:00 GMT", now: Self.now) == 189_302_400)
        #expect(HTTPDate.parse("Thursday, 01-Jan-70 00:00:00 GMT", now: Self.now) == 3_155_760_000)
        #expect(HTTPDate.parse("Saturday, 01-Jan-50 00:00:00 GMT", now: Self.now) == 2_524_608_000)
    }

    @Test func formatsCommonLogDates() {
        #expect(HTTPDate.commonLog(Self.example) == "06/Nov/1994:08:49:37 +0000")
        #expect(HTTPDate.commonLog(0) == "01/Jan/1970:00:00:00 +0000")
        #expect(HTTPDate.commonLog(Int64.max) == "31/Dec/9999:23:59:59 +0000")
        #expect(HTTPDate.commonLog(Int64.min) == "01/Jan/0001:00:00:00 +0000")
    }
}
