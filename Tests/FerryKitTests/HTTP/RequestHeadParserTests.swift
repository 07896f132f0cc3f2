import HTTPTypes
import Testing
@testable import FerryKit

/// A parse result with the head as text, to compare.
private enum Outcome: Equatable {
    case incomplete
    case complete(RequestHeadText, consumed: Int)
    case failed(HTTPError, requestLine: String?)

    init(_ result: HeadParseResult, bytes: UnsafeRawBufferPointer, joined: JoinedValues? = nil) {
        switch result {
        case .incomplete: self = .incomplete
        case .complete(let head, let consumed):
            self = .complete(RequestView(head: head, bytes: bytes, joined: joined).text, consumed: consumed)
        case .failed(let error, let requestLine): self = .failed(error, requestLine: requestLine)
        }
    }
}

/// Parses `text` in one call.
private func parse(_ text: String, limits: HeadLimits = HeadLimits()) -> Outcome {
    var parser = RequestHeadParser(limits: limits)
    return Array(text.utf8).withUnsafeBytes { bytes in
        let result = parser.parse(bytes)
        return Outcome(result, bytes: bytes, joined: parser.joined)
    }
}

private func head(_ text: String) -> RequestHeadText? {
    guard case .complete(let head, _) = parse(text) else { return nil }
    return head
}

private func error(_ text: String, limits: HeadLimits = HeadLimits()) -> HTTPError? {
    guard case .failed(let error, _) = parse(text, limits: limits) else { return nil }
    return error
}

private func status(_ text: String, limits: HeadLimits = HeadLimits()) -> Int? {
    error(text, limits: limits)?.status.code
}

/// `count` header fields "X-Field-N: value".
private func fields(_ count: Int, valueLength: Int = 5) -> String {
    (0..<count).map { "X-Field-\($0): " + String(repeating: "v", count: valueLength) + "\r\n" }.joined()
}

@Suite struct RequestHeadParserTests {
    // MARK: complete heads

    @Test func parsesSimpleHTTP10Request() {
        let text = "GET /index.html?q=1 HTTP/1.0\r\nUser-Agent: curl/8.0\r\n\r\n"
        #expect(parse(text) == .complete(
            RequestHeadText(method: "GET", target: "/index.html?q=1", version: .http1_0,
                            requestLine: "GET /index.html?q=1 HTTP/1.0", fields: [.userAgent: "curl/8.0"]),
            consumed: text.utf8.count))
    }

    @Test func parsesEveryKeptField() throws {
        let text = "HEAD / HTTP/1.1\r\nHost: example.com:8080\r\nRange: bytes=0-9\r\nIf-Range: \"abc\"\r\n"
            + "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nIf-None-Match: \"x\"\r\n"
            + "User-Agent: Wget/1.21\r\nReferer: http://example.com/\r\nAccept: */*\r\n\r\n"
        let parsed = try #require(head(text))
        #expect(parsed.method == "HEAD")
        #expect(parsed.version == .http1_1)
        #expect(parsed[.host] == "example.com:8080")
        #expect(parsed[.range] == "bytes=0-9")
        #expect(parsed[.ifRange] == "\"abc\"")
        #expect(parsed[.ifModifiedSince] == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(parsed[.ifNoneMatch] == "\"x\"")
        #expect(parsed[.userAgent] == "Wget/1.21")
        #expect(parsed[.referer] == "http://example.com/")
        #expect(!parsed.announcesBody)
    }

    @Test func acceptsBareLineFeeds() throws {
        let text = "GET /a HTTP/1.1\nHost: h\nRange: bytes=1-\n\n"
        guard case .complete(let parsed, let consumed) = parse(text) else {
            Issue.record("expected a complete head")
            return
        }
        #expect(consumed == text.utf8.count)
        #expect(parsed.requestLine == "GET /a HTTP/1.1")
        #expect(parsed[.host] == "h")
        #expect(parsed[.range] == "bytes=1-")
    }

    @Test func acceptsMixedLineEnds() {
        #expect(head("GET / HTTP/1.1\r\nHost: h\n\r\n")?[.host] == "h")
        #expect(head("GET / HTTP/1.0\n\r\n") != nil)
    }

    @Test func consumedStopsAtTheEmptyLine() {
        let headText = "GET / HTTP/1.0\r\nContent-Length: 4\r\n\r\n"
        guard case .complete(let parsed, let consumed) = parse(headText + "body") else {
            Issue.record("expected a complete head")
            return
        }
        #expect(consumed == headText.utf8.count)
        #expect(parsed.announcesBody)
    }

    @Test func skipsEmptyLinesBeforeTheRequestLine() {
        let text = "\r\n\nGET / HTTP/1.0\r\n\r\n"
        #expect(parse(text) == .complete(
            RequestHeadText(method: "GET", target: "/", version: .http1_0, requestLine: "GET / HTTP/1.0"),
            consumed: text.utf8.count))
    }

    @Test func fieldNamesAreCaseInsensitiveAndValuesTrimmed() {
        let parsed = head("GET / HTTP/1.1\r\nhOsT:h\r\nRANGE: \t bytes=0-1 \t\r\nuser-agent:   a b  \r\n\r\n")
        #expect(parsed?[.host] == "h")
        #expect(parsed?[.range] == "bytes=0-1")
        #expect(parsed?[.userAgent] == "a b")
    }

    @Test func repeatedFieldsAreJoined() {
        let parsed = head("GET / HTTP/1.0\r\nIf-None-Match: \"a\"\r\nIf-None-Match: \"b\", W/\"c\"\r\n"
            + "Range: bytes=0-1\r\nRange: bytes=5-\r\n\r\n")
        #expect(parsed?[.ifNoneMatch] == "\"a\", \"b\", W/\"c\"")
        #expect(parsed?[.range] == "bytes=0-1, bytes=5-")
    }

    /// Found by the request-head fuzzer: a repeated field with an empty line was joined
    /// into "Apachl HTTP/1.0, ive, ", a value ending in whitespace that reads back
    /// differently once written out again.
    @Test func emptyRepeatedFieldsAddNoElement() {
        let parsed = head("GET / HTTP/1.0\r\nUser-Agent: a\r\nUser-Agent:\r\nUser-Agent: b\r\nUser-Agent: \r\n"
            + "Accept:\r\nAccept: */*\r\n\r\n")
        #expect(parsed?[.userAgent] == "a, b")
        #expect(parsed?[.accept] == "*/*")
        #expect(head("GET / HTTP/1.0\r\nRange:\r\nRange:\r\n\r\n")?[.range] == "")
    }

    @Test func emptyValuesAreKept() {
        #expect(head("GET / HTTP/1.1\r\nHost:\r\nReferer: \r\n\r\n")?[.host] == "")
        #expect(head("GET / HTTP/1.1\r\nHost:\r\nReferer: \r\n\r\n")?[.referer] == "")
    }

    // MARK: incremental parsing

    @Test func oneByteAtATimeIsIncompleteUntilTheLastByte() {
        let text = Array("GET /file.txt HTTP/1.1\r\nHost: localhost\r\nRange: bytes=-5\r\n\r\n".utf8)
        var parser = RequestHeadParser(limits: HeadLimits())
        for count in 1..<text.count {
            let result = text[..<count].withUnsafeBytes { parser.parse($0) }
            #expect(result == .incomplete, "after \(count) bytes")
        }
        let expected = Outcome.complete(
            RequestHeadText(method: "GET", target: "/file.txt", version: .http1_1,
                            requestLine: "GET /file.txt HTTP/1.1", fields: [.host: "localhost", .range: "bytes=-5"]),
            consumed: text.count)
        #expect(text.withUnsafeBytes { Outcome(parser.parse($0), bytes: $0) } == expected)
        // A finished parser keeps its answer.
        #expect((text + Array("more".utf8)).withUnsafeBytes { Outcome(parser.parse($0), bytes: $0) } == expected)
    }

    @Test func chunksSplitInsideLineEndsAreHandled() {
        let text = Array("GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n".utf8)
        for split in 1..<text.count {
            var parser = RequestHeadParser(limits: HeadLimits())
            let first = text[..<split].withUnsafeBytes { parser.parse($0) }
            #expect(first == .incomplete)
            guard case .complete(let parsed, let consumed) = text.withUnsafeBytes({ Outcome(parser.parse($0), bytes: $0) })
            else {
                Issue.record("split at \(split) did not complete")
                continue
            }
            #expect(parsed[.userAgent] == "x")
            #expect(consumed == text.count)
        }
    }

    @Test func incompleteHeads() {
        #expect(parse("") == .incomplete)
        #expect(parse("GET / HTTP/1.0") == .incomplete)
        #expect(parse("GET / HTTP/1.0\r\n") == .incomplete)
        #expect(parse("GET / HTTP/1.0\r\nHost: x\r\n") == .incomplete)
        #expect(parse("GET / HTTP/1.0\r\nHost: x\r\n\r") == .incomplete)
    }

    // MARK: request line

    @Test func anyTokenIsAMethod() {
        #expect(head("M-SEARCH * HTTP/1.0\r\n\r\n")?.method == "M-SEARCH")
        #expect(head("BREW / HTTP/1.0\r\n\r\n")?.method == "BREW")
        #expect(head("get / HTTP/1.0\r\n\r\n")?.method == "get")
    }

    @Test(arguments: [
        "G(ET / HTTP/1.0",        // not a token
        "GÉT / HTTP/1.0",
        " GET / HTTP/1.0",        // empty method
        "GET  / HTTP/1.0",        // two spaces
        "GET\t/ HTTP/1.0",
        "GET / HTTP/1.0 ",        // trailing space
        "GET /",                  // HTTP/0.9: no version
        "GET / ",
        "GET / HTTP/1",
        "GET / HTTP/1.10",
        "GET / http/1.1",
        "GET / HTTPS/1.1",
        "GET / HTTP/a.b",
        "GET /a\u{7F} HTTP/1.0",  // target not visible ASCII
        "GET /\u{1} HTTP/1.0",
        "GET /é HTTP/1.0",
        "GET /a\rb HTTP/1.0",     // bare CR
        "GET / HTTP/1.0\r",
    ])
    func malformedRequestLinesAre400(_ line: String) {
        #expect(status(line + "\r\n\r\n") == 400)
    }

    @Test(arguments: ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/3.0", "HTTP/9.9"])
    func otherWellFormedVersionsAre505(_ version: String) {
        #expect(parse("GET / \(version)\r\nHost: h\r\n\r\n") == .failed(
            HTTPError(status: .httpVersionNotSupported, reason: "\(version) is not supported"),
            requestLine: "GET / \(version)"))
    }

    @Test func requestLineErrorsReportTheLine() {
        #expect(parse("GET / HTTP/1.x\r\n") == .failed(
            HTTPError(status: .badRequest, reason: "malformed HTTP version"), requestLine: "GET / HTTP/1.x"))
    }

    // MARK: limits

    @Test func longRequestLineIs414WhileIncomplete() {
        let line = "GET /" + String(repeating: "a", count: 8193 - 5)
        #expect(line.utf8.count == 8193)
        #expect(parse(line) == .failed(
            HTTPError(status: .uriTooLong, reason: "request line exceeds 8192 bytes"), requestLine: nil))
    }

    @Test func requestLineAtTheLimitIsAccepted() {
        let line = "GET /" + String(repeating: "a", count: 8192 - 5 - 9) + " HTTP/1.0"
        #expect(line.utf8.count == 8192)
        #expect(parse(line) == .incomplete)
        #expect(parse(line + "\r") == .incomplete)  // the CR may start the line end
        #expect(head(line + "\r\n\r\n")?.requestLine == line)
        #expect(status(line + "a\r\n\r\n") == 414)  // one byte over, complete
    }

    @Test func requestLineLimitIsConfigurable() {
        var limits = HeadLimits()
        limits.requestLineBytes = 16
        #expect(status("GET /0123456789 HTTP/1.0\r\n\r\n", limits: limits) == 414)
        #expect(status("GET /0123456789A", limits: limits) == nil)      // 16 bytes: still waiting
        #expect(status("GET /0123456789AB", limits: limits) == 414)     // 17
        #expect(status("\r\n\r\n\r\n\r\nGET /0123", limits: limits) == 414)  // empty lines count
    }

    @Test func moreThanAHundredFieldsIs431() {
        #expect(head("GET / HTTP/1.0\r\n" + fields(100) + "\r\n") != nil)
        #expect(parse("GET / HTTP/1.0\r\n" + fields(101) + "\r\n") == .failed(
            HTTPError(status: .requestHeaderFieldsTooLarge, reason: "more than 100 header fields"),
            requestLine: "GET / HTTP/1.0"))
        // Detected before the head ends.
        #expect(status("GET / HTTP/1.0\r\n" + fields(101)) == 431)
    }

    @Test func seventeenKibibytesOfHeadersIs431() {
        let big = "GET / HTTP/1.0\r\nCookie: " + String(repeating: "c", count: 17 * 1024) + "\r\n\r\n"
        #expect(parse(big) == .failed(
            HTTPError(status: .requestHeaderFieldsTooLarge, reason: "header section exceeds 16384 bytes"),
            requestLine: "GET / HTTP/1.0"))
        let many = "GET / HTTP/1.0\r\n" + fields(17, valueLength: 1024) + "\r\n"
        #expect(status(many) == 431)
    }

    @Test func headerSectionAtTheLimitIsAccepted() {
        // "Cookie: " + value + CRLF == 16384 bytes exactly.
        let field = "Cookie: " + String(repeating: "c", count: 16384 - 10) + "\r\n"
        #expect(field.utf8.count == 16384)
        #expect(head("GET / HTTP/1.0\r\n" + field + "\r\n") != nil)
        #expect(parse("GET / HTTP/1.0\r\n" + field + "\r") == .incomplete)
        let over = "Cookie: " + String(repeating: "c", count: 16384 - 9) + "\r\n"
        #expect(status("GET / HTTP/1.0\r\n" + over + "\r\n") == 431)
    }

    @Test func endlessHeaderStreamIsCutOffWhileIncomplete() {
        // No line end at all: cut as soon as the section cannot fit.
        let endlessLine = "GET / HTTP/1.0\r\nX: " + String(repeating: "x", count: 16384)
        #expect(status(endlessLine) == 431)
        // A field that can still end exactly at the limit (with a bare LF) is waited for.
        let fits = "GET / HTTP/1.0\r\nX: " + String(repeating: "x", count: 16384 - 4)
        #expect(parse(fits) == .incomplete)
        #expect(status(fits + "x") == 431)
    }

    @Test func headerLimitsAreConfigurable() {
        var limits = HeadLimits()
        limits.headerFields = 2
        limits.headerBytes = 40
        #expect(status("GET / HTTP/1.0\r\n" + fields(2) + "\r\n", limits: limits) == nil)
        #expect(status("GET / HTTP/1.0\r\n" + fields(3) + "\r\n", limits: limits) == 431)
        #expect(status("GET / HTTP/1.0\r\nX: " + String(repeating: "x", count: 40) + "\r\n\r\n",
                       limits: limits) == 431)
    }

    // MARK: header fields

    @Test func obsFoldIs400() {
        #expect(parse("GET / HTTP/1.0\r\nUser-Agent: a\r\n b\r\n\r\n") == .failed(
            HTTPError(status: .badRequest, reason: "obsolete line folding in header section"),
            requestLine: "GET / HTTP/1.0"))
        #expect(status("GET / HTTP/1.0\r\nUser-Agent: a\r\n\tb\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.0\r\n Host: a\r\n\r\n") == 400)
    }

    @Test(arguments: [
        "Host : h",          // whitespace before colon
        "Host\t: h",
        "Host",              // no colon
        ": h",               // empty name
        "Ho st: h",
        "Hôst: h",
        "X: a\rb",           // CR not followed by LF
        "X: a\u{0}b",        // NUL
        "X: a\u{1B}b",       // other control
        "X: a\u{7F}",
        "\r",                // a line holding only a CR before CR LF
    ])
    func malformedFieldsAre400(_ field: String) {
        #expect(status("GET / HTTP/1.0\r\n\(field)\r\n\r\n") == 400)
    }

    @Test func whitespaceBeforeColonHasItsReason() {
        #expect(error("GET / HTTP/1.0\r\nHost : h\r\n\r\n")?.reason == "whitespace before colon in header field")
    }

    @Test func fieldValuesMayHoldTabsAndObsText() {
        #expect(head("GET / HTTP/1.0\r\nUser-Agent: a\tb\r\n\r\n")?[.userAgent] == "a\tb")
        #expect(head("GET / HTTP/1.0\r\nUser-Agent: café\r\n\r\n")?[.userAgent] == "café")
    }

    @Test func hostRules() {
        #expect(parse("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n") == .failed(
            HTTPError(status: .badRequest, reason: "missing Host header field"), requestLine: "GET / HTTP/1.1"))
        #expect(head("GET / HTTP/1.0\r\n\r\n")?[.host] == nil)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n") == 400)
    }

    @Test func contentLengthRules() {
        let prefix = "POST / HTTP/1.0\r\n"
        #expect(head(prefix + "Content-Length: 0\r\n\r\n")?.announcesBody == false)
        #expect(head(prefix + "Content-Length: 000\r\n\r\n")?.announcesBody == false)
        #expect(head(prefix + "Content-Length: 12\r\n\r\n")?.announcesBody == true)
        #expect(head(prefix + "Content-Length: 99999999999999999999999\r\n\r\n")?.announcesBody == true)
        // Repeated or listed, even with equal values: one reader could frame it otherwise.
        #expect(status(prefix + "Content-Length: 5\r\nContent-Length: 5\r\n\r\n") == 400)
        #expect(status(prefix + "Content-Length: 5\r\ncontent-length: 6\r\n\r\n") == 400)
        for bad in ["abc", "-1", "+5", "1.5", "0x10", "", "5,", "5, 6", "5, 005", "1 2"] {
            #expect(status(prefix + "Content-Length: \(bad)\r\n\r\n") == 400, "Content-Length: \(bad)")
        }
        #expect(status(prefix + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400)
    }

    @Test func transferEncodingAnnouncesABody() {
        #expect(head("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")?.announcesBody == true)
        #expect(head("POST / HTTP/1.0\r\ntransfer-encoding: identity\r\n\r\n")?.announcesBody == true)
    }

    /// RFC 9112 §6.3: a head framed both ways is refused, whichever field comes first.
    @Test func contentLengthBesideTransferEncodingIsRefused() {
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n") == 400)
    }

    @Test func connectionOptionsDecidePersistence() {
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.wantsPersistence == true)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n")?.wantsPersistence == false)
        #expect(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: TE,  close \r\n\r\n")?.wantsPersistence == false)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.wantsPersistence == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.wantsPersistence == true)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.wantsPersistence == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n")?.wantsPersistence == false)
    }

    @Test func fieldErrorsReportTheRequestLine() {
        guard case .failed(_, let line) = parse("GET /x HTTP/1.0\r\nBad Field\r\n\r\n") else {
            Issue.record("expected a failure")
            return
        }
        #expect(line == "GET /x HTTP/1.0")
    }

    // MARK: incremental and one-shot parsing agree

    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    /// Mutated heads, fed in random chunks, give the same result as in one call: the
    /// state kept between calls loses nothing, and limits hit on an unfinished tail
    /// agree with those hit on the finished line.
    @Test func chunkedParsingAgreesWithOneShotParsing() {
        var limits = HeadLimits()
        limits.requestLineBytes = 40
        limits.headerBytes = 80
        limits.headerFields = 4
        let corpus = [
            "GET /a HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n\r\n",
            "HEAD /index.html HTTP/1.0\nUser-Agent: x\nIf-None-Match: \"a\"\n\n",
            "\r\nGET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc",
            "GET /" + String(repeating: "p", count: 40) + " HTTP/1.0\r\n\r\n",
            "GET / HTTP/1.0\r\n" + fields(5, valueLength: 1) + "\r\n",
            "GET / HTTP/1.0\r\nX: " + String(repeating: "v", count: 90) + "\r\n\r\n",
        ].map { Array($0.utf8) }
        let alphabet = Array("\r\n :/\tAa0".utf8) + [0, 0x80]
        var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<2000 {
            var input = corpus.randomElement(using: &random)!
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                input[Int.random(in: 0..<input.count, using: &random)] = alphabet.randomElement(using: &random)!
            }
            var oneShot = RequestHeadParser(limits: limits)
            let expected = input.withUnsafeBytes { oneShot.parse($0) }

            var chunked = RequestHeadParser(limits: limits)
            var received = 0
            var result = HeadParseResult.incomplete
            while received < input.count {
                received = min(input.count, received + Int.random(in: 1...8, using: &random))
                result = input[..<received].withUnsafeBytes { chunked.parse($0) }
                if result != .incomplete { break }
            }
            #expect(result == expected, "\(String(decoding: input, as: UTF8.self).debugDescription)")
        }
    }
}
