import Testing
@testable import FerryKit

@Suite struct DateHeaderCacheTests {
    /// A clock the test moves by hand.
    final class FakeClock {
        var now: Int64 = 784_111_777
    }

    @Test func formatsOncePerSecond() {
        let clock = FakeClock()
        let cache = DateHeaderCache(clock: { clock.now })
        let first = cache.current()
        #expect(first == "Sun, 06 Nov 1994 08:49:37 GMT")
        // The same second gives the very same string storage back: it was not reformatted.
        let again = cache.current()
        #expect(again == first)
        #expect(again.text.utf8.withContiguousStorageIfAvailable { $0.baseAddress }
            == first.text.utf8.withContiguousStorageIfAvailable { $0.baseAddress })
        clock.now += 1
        #expect(cache.current() == "Sun, 06 Nov 1994 08:49:38 GMT")
        clock.now += 86_400
        #expect(cache.current() == "Mon, 07 Nov 1994 08:49:38 GMT")
    }

    @Test func keepsTheLastDateWhenTheClockCannotBeFormatted() {
        let clock = FakeClock()
        let cache = DateHeaderCache(clock: { clock.now })
        _ = cache.current()
        clock.now = Int64.max
        #expect(cache.current() == "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    @Test func usesTheWallClock() throws {
        let before = wallClockSeconds()
        let text = DateHeaderCache().current()
        let after = wallClockSeconds()
        let parsed = try #require(HTTPDate.parse(text.text))
        #expect(parsed >= before && parsed <= after)
    }
}
