import Testing
@testable import FerryKit

/// The echo count as it arrives: which ends it, what whitespace is allowed, what is refused.
@Suite struct EchoRequestTests {
    /// Feeds `pieces` in turn and returns the outcome after each one.
    func outcomes(_ pieces: [String]) -> [EchoRequest.Outcome] {
        var request = EchoRequest()
        return pieces.map { request.append(Array($0.utf8)) }
    }

    func isRefused(_ outcome: EchoRequest.Outcome) -> Bool {
        if case .refused = outcome { return true }
        return false
    }

    @Test func newlineEndsTheCount() {
        #expect(outcomes(["3000\n"]) == [.count(3000)])
        #expect(outcomes(["3000\r\n"]) == [.count(3000)])
        #expect(outcomes(["30", "00", "\n"]) == [.incomplete, .incomplete, .count(3000)])
        #expect(outcomes(["0\n"]) == [.count(0)])
    }

    @Test func bytesAfterTheNewlineAreNotLookedAt() {
        #expect(outcomes(["12\nnot a count"]) == [.count(12)])
    }

    /// The csdesign client: bare digits, then nothing more.
    @Test func aPauseAfterDigitsEndsTheCount() {
        var request = EchoRequest()
        #expect(request.append(Array("1000".utf8)) == .incomplete)
        #expect(request.pause() == .count(1000))
    }

    /// A count split over two segments is read as its first part, as by a server
    /// that reads it with one recv.
    @Test func aPauseEndsATrickledCountEarly() {
        var request = EchoRequest()
        #expect(request.append(Array("1".utf8)) == .incomplete)
        #expect(request.pause() == .count(1))
    }

    @Test func aPauseBeforeAnyDigitWaits() {
        var request = EchoRequest()
        #expect(request.pause() == .incomplete)
        #expect(request.append(Array("  ".utf8)) == .incomplete)
        #expect(request.pause() == .incomplete)
        #expect(request.append(Array("7".utf8)) == .incomplete)
        #expect(request.pause() == .count(7))
    }

    @Test func endOfInputEndsTheCount() {
        var request = EchoRequest()
        _ = request.append(Array("42".utf8))
        #expect(request.end() == .count(42))
        #expect(isRefused(EchoRequest().end()))
    }

    /// Python's int() strips ASCII whitespace around the digits; so does the server.
    @Test func whitespaceAroundTheDigits() {
        #expect(outcomes([" \t12 \r\n"]) == [.count(12)])
        var request = EchoRequest()
        _ = request.append(Array(" 12\u{0B}\u{0C}".utf8))
        #expect(request.pause() == .count(12))
    }

    @Test(arguments: ["abc\n", "12a", "-5\n", "+5\n", "1 2\n", "\n", " \r\n", "1_000\n", "0x10\n"])
    func refused(_ text: String) {
        var request = EchoRequest()
        var outcome = request.append(Array(text.utf8))
        if outcome == .incomplete { outcome = request.end() }
        #expect(isRefused(outcome), "\(text.debugDescription) gave \(outcome)")
    }

    @Test func limits() {
        #expect(outcomes(["\(EchoHandler.maximumCount)\n"]) == [.count(EchoHandler.maximumCount)])
        #expect(isRefused(outcomes(["\(EchoHandler.maximumCount + 1)\n"])[0]))
        // 20 digits overflow Int; still a refusal, not a crash.
        #expect(isRefused(outcomes(["99999999999999999999\n"])[0]))
        // The 21st byte without a newline is refused at once, without waiting.
        #expect(outcomes([String(repeating: " ", count: 19) + "1"]) == [.incomplete])
        #expect(isRefused(outcomes([String(repeating: " ", count: 20) + "1"])[0]))
    }
}
