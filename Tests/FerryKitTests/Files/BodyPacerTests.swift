import Testing
@testable import FerryKit

/// The pacer's arithmetic at fixed times; the real throughput is checked by
/// bench/rate-limit (RateLimitBenchTests), against the real kernel.
@Suite struct BodyPacerTests {
    let second: UInt64 = 1_000_000_000

    @Test func noRateAllowsEverything() {
        var pacer = BodyPacer(rate: 0, after: 0)
        #expect(pacer.allowance(sent: 123, remaining: 1 << 40, now: 5) == .send(.max))
    }

    @Test func bytesBeforeLimitRateAfterGoAtFullSpeed() {
        var pacer = BodyPacer(rate: 1000, after: 10_000)
        #expect(pacer.allowance(sent: 0, remaining: 50_000, now: second) == .send(10_000))
        #expect(pacer.allowance(sent: 9_000, remaining: 41_000, now: second) == .send(1_000))
    }

    @Test func limitedPartStartsWithOneQuantumThenWaits() {
        // 100 KB/s: a quantum is a twentieth of a second's worth, 5,000 bytes.
        var pacer = BodyPacer(rate: 100_000, after: 0)
        #expect(pacer.quantum == 5_000)
        #expect(pacer.allowance(sent: 0, remaining: 1_000_000, now: second) == .send(5_000))
        // All of it sent at once: the next quantum is earned 50 ms later.
        #expect(pacer.allowance(sent: 5_000, remaining: 995_000, now: second) == .waitUntil(second + 50_000_000))
        #expect(pacer.allowance(sent: 5_000, remaining: 995_000, now: second + 50_000_000) == .send(5_000))
    }

    @Test func averageRateHoldsOverTime() {
        var pacer = BodyPacer(rate: 1_000_000, after: 0)
        let start = second
        // 10 s after the limit began, exactly one quantum plus ten seconds' worth is allowed.
        _ = pacer.allowance(sent: 0, remaining: 100_000_000, now: start)
        #expect(pacer.allowance(sent: 0, remaining: 100_000_000, now: start + 10 * second)
                == .send(pacer.quantum + 10_000_000))
        #expect(pacer.allowance(sent: pacer.quantum + 10_000_000, remaining: 1, now: start + 10 * second)
                == .waitUntil(start + 10 * second + 1_000))
    }

    @Test func theLastFewBytesNeedOnlyTheirOwnCredit() {
        var pacer = BodyPacer(rate: 100_000, after: 0)
        _ = pacer.allowance(sent: 0, remaining: 5_100, now: second)
        // 100 bytes remain: they are sent once 100 bytes are earned (1 ms), not a quantum.
        #expect(pacer.allowance(sent: 5_000, remaining: 100, now: second) == .waitUntil(second + 1_000_000))
    }

    @Test func quantumStaysWithinASecondsWorthAndAtLeastAKibibyte() {
        #expect(BodyPacer(rate: 100, after: 0).quantum == 100)
        #expect(BodyPacer(rate: 4_000, after: 0).quantum == 1_024)
        #expect(BodyPacer(rate: 20_000_000, after: 0).quantum == 1_000_000)
    }

    @Test func resetStartsTheNextResponseAtFullSpeed() {
        var pacer = BodyPacer(rate: 1_000, after: 2_000)
        _ = pacer.allowance(sent: 2_000, remaining: 10_000, now: second)
        pacer.reset()
        #expect(pacer.allowance(sent: 0, remaining: 10_000, now: 100 * second) == .send(2_000))
        // The limited part of the new body counts from its own start.
        #expect(pacer.allowance(sent: 2_000, remaining: 8_000, now: 100 * second) == .send(1_000))
    }
}
