import Glibc
import HTTPTypes

/// Size limits on a request head. Generous by default: a 4,000-byte header limit
/// rejected ordinary browsers carrying large cookies (cozystack#602).
public struct HeadLimits: Equatable, Sendable {
    /// The request line without its line end, counting any empty lines before it (else 414).
    public var requestLineBytes = 8192
    /// The field lines after the request line, their line ends included (else 431).
    public var headerBytes = 16384
    /// The number of field lines (else 431).
    public var headerFields = 100

    public init() {}
}

public enum HeadParseResult: Equatable, Sendable {
    /// More bytes are needed.
    case incomplete
    /// The head ends `consumed` bytes into the buffer, its empty line included; bytes
    /// after that belong to a body.
    case complete(RequestHead, consumed: Int)
    /// The request is refused. `requestLine` is the request line when it arrived whole
    /// (also when it is the thing refused), for the access log.
    case failed(HTTPError, requestLine: String?)
}

/// An incremental HTTP/1.x request head parser (RFC 9112 §2–5) that does no I/O: the
/// caller appends what it reads to one buffer and calls `parse` again until the result
/// is no longer `.incomplete`.
///
/// Lines end in CRLF or a bare LF. Each line is examined once, when its LF arrives, so
/// a client trickling one byte at a time costs linear work; the limits are applied to
/// the unfinished tail too, so an endless line or header stream is cut off early.
/// Empty lines before the request line are skipped (RFC 9112 §2.2).
///
/// Fields Ferry does not use are checked for syntax and dropped. A kept field that
/// appears several times is joined with ", " (two Range fields then make a list of
/// ranges, which is ignored; two If-Modified-Since an invalid date, also ignored).
/// Host must appear at most once. Content-Length must appear at most once with a
/// single number, and never beside Transfer-Encoding (RFC 9112 §6.3): on a persistent
/// connection, a head that two readers could frame differently opens the door to
/// request smuggling, so it is refused.
public struct RequestHeadParser {
    private let limits: HeadLimits
    /// Start of the line whose end is being looked for.
    private var lineStart = 0
    /// Bytes before this offset were already searched for a line end.
    private var scanned = 0
    /// Offset just after the request line; nil until the request line is parsed.
    private var headerStart: Int?
    /// The head so far, once the request line is parsed.
    private var head: RequestHead?
    private var fieldCount = 0
    private var hostCount = 0
    private var sawContentLength = false
    private var sawTransferEncoding = false
    /// The final result, returned again if `parse` is called after it.
    private var result: HeadParseResult?

    public init(limits: HeadLimits = HeadLimits()) {
        self.limits = limits
    }

    /// `buffer` is every byte received on the connection so far; it only grows between calls.
    public mutating func parse(_ buffer: UnsafeRawBufferPointer) -> HeadParseResult {
        if let result { return result }
        precondition(buffer.count >= scanned, "the buffer given to RequestHeadParser shrank")

        while let lineFeed = Self.lineFeed(in: buffer, from: scanned) {
            scanned = lineFeed + 1
            var contentEnd = lineFeed
            if contentEnd > lineStart && buffer[contentEnd - 1] == ASCII.cr { contentEnd -= 1 }
            let line = UnsafeRawBufferPointer(rebasing: buffer[lineStart..<contentEnd])
            lineStart = lineFeed + 1
            if let outcome = take(line, contentEnd: contentEnd, lineEnd: lineFeed + 1) {
                result = outcome
                return outcome
            }
        }
        scanned = buffer.count
        if let outcome = checkTail(buffer) {
            result = outcome
            return outcome
        }
        return .incomplete
    }

    private static func lineFeed(in buffer: UnsafeRawBufferPointer, from offset: Int) -> Int? {
        guard offset < buffer.count, let base = buffer.baseAddress,
              let found = memchr(base + offset, Int32(ASCII.lf), buffer.count - offset) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The limits applied to the line still waiting for its LF, assuming the most
    /// favourable ending: a trailing CR may yet be the start of the line end.
    private func checkTail(_ buffer: UnsafeRawBufferPointer) -> HeadParseResult? {
        let tailLength = buffer.count - lineStart
        let endsInCR = tailLength > 0 && buffer[buffer.count - 1] == ASCII.cr
        guard let headerStart, let head else {
            let contentEnd = endsInCR ? buffer.count - 1 : buffer.count
            if contentEnd > limits.requestLineBytes {
                return .failed(requestLineTooLong, requestLine: nil)
            }
            return nil
        }
        // A lone CR may begin the empty line that ends the head; anything else is a
        // field line that will end at least one byte further on.
        let isPossibleEnd = tailLength == 0 || (tailLength == 1 && endsInCR)
        if !isPossibleEnd && buffer.count + 1 - headerStart > limits.headerBytes {
            return .failed(headerSectionTooLarge, requestLine: head.requestLine)
        }
        return nil
    }

    private var requestLineTooLong: HTTPError {
        HTTPError(status: .uriTooLong, reason: "request line exceeds \(limits.requestLineBytes) bytes")
    }

    private var headerSectionTooLarge: HTTPError {
        HTTPError(status: .requestHeaderFieldsTooLarge, reason: "header section exceeds \(limits.headerBytes) bytes")
    }

    // MARK: lines

    /// Handles one complete line (`line` is its content, without CR LF); returns the
    /// final result, or nil to read on.
    private mutating func take(_ line: UnsafeRawBufferPointer, contentEnd: Int, lineEnd: Int) -> HeadParseResult? {
        guard let headerStart, var head else {
            if contentEnd > limits.requestLineBytes {
                return .failed(requestLineTooLong, requestLine: nil)
            }
            if line.isEmpty { return nil }
            switch Self.parseRequestLine(line) {
            case .success(let parsed):
                self.head = parsed
                self.headerStart = lineEnd
                return nil
            case .failure(let error):
                return .failed(error, requestLine: String(decoding: line, as: UTF8.self))
            }
        }
        if line.isEmpty {
            return finish(head, consumed: lineEnd)
        }
        if lineEnd - headerStart > limits.headerBytes {
            return .failed(headerSectionTooLarge, requestLine: head.requestLine)
        }
        fieldCount += 1
        if fieldCount > limits.headerFields {
            let error = HTTPError(status: .requestHeaderFieldsTooLarge,
                                  reason: "more than \(limits.headerFields) header fields")
            return .failed(error, requestLine: head.requestLine)
        }
        if let error = takeField(line, into: &head) {
            return .failed(error, requestLine: head.requestLine)
        }
        self.head = head
        return nil
    }

    /// The checks that need the whole head.
    private func finish(_ head: RequestHead, consumed: Int) -> HeadParseResult {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is rejected.
        if head.version == .http1_1 && head.host == nil {
            return .failed(Self.badRequest("missing Host header field"), requestLine: head.requestLine)
        }
        return .complete(head, consumed: consumed)
    }

    private static func badRequest(_ reason: String) -> HTTPError {
        HTTPError(status: .badRequest, reason: reason)
    }

    // MARK: request line

    /// `method SP request-target SP HTTP-version`, single spaces only.
    private static func parseRequestLine(_ line: UnsafeRawBufferPointer) -> Result<RequestHead, HTTPError> {
        if line.contains(ASCII.cr) { return .failure(badRequest("CR not followed by LF")) }
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return .failure(badRequest("malformed request line"))
        }
        guard let method = HTTPRequest.Method(String(decoding: parts[0], as: UTF8.self)) else {
            return .failure(badRequest("method is not a token"))
        }
        // Visible ASCII only: no controls, no spaces, no raw UTF-8.
        guard parts[1].allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return .failure(badRequest("request-target contains invalid bytes"))
        }
        let versionText = parts[2]
        guard versionText.count == 8, versionText.starts(with: "HTTP/".utf8),
              ASCII.isDigit(versionText[versionText.startIndex + 5]),
              versionText[versionText.startIndex + 6] == UInt8(ascii: "."),
              ASCII.isDigit(versionText[versionText.startIndex + 7]) else {
            return .failure(badRequest("malformed HTTP version"))
        }
        let version = HTTPVersion(major: Int(versionText[versionText.startIndex + 5] - ASCII.zero),
                                  minor: Int(versionText[versionText.startIndex + 7] - ASCII.zero))
        guard version == .http1_0 || version == .http1_1 else {
            return .failure(HTTPError(status: .httpVersionNotSupported, reason: "\(version) is not supported"))
        }
        return .success(RequestHead(method: method, target: String(decoding: parts[1], as: UTF8.self),
                                    version: version, requestLine: String(decoding: line, as: UTF8.self)))
    }

    // MARK: header fields

    /// `field-name ":" OWS field-value OWS`; records the fields Ferry uses into `head`.
    private mutating func takeField(_ line: UnsafeRawBufferPointer, into head: inout RequestHead) -> HTTPError? {
        if line.contains(ASCII.cr) { return Self.badRequest("CR not followed by LF") }
        // RFC 9112 §5.2: obsolete line folding is rejected in requests.
        if ASCII.isWhitespace(line[0]) { return Self.badRequest("obsolete line folding in header section") }
        let nameEnd = line.firstIndex { !ASCII.isTokenCharacter($0) } ?? line.endIndex
        guard nameEnd > 0, nameEnd < line.endIndex else { return Self.badRequest("malformed header field") }
        guard line[nameEnd] == ASCII.colon else {
            // RFC 9112 §5.1: whitespace between name and colon is rejected (request smuggling).
            return Self.badRequest(ASCII.isWhitespace(line[nameEnd]) ? "whitespace before colon in header field"
                                                                     : "malformed header field")
        }
        let value = ASCII.trimmingWhitespace(line[(nameEnd + 1)...])
        // RFC 9110 §5.5: CR, LF and NUL are never valid; other controls but HTAB neither.
        guard value.allSatisfy({ $0 == ASCII.tab || ($0 >= 0x20 && $0 != 0x7F) }) else {
            return Self.badRequest("control character in header field value")
        }
        let text = String(decoding: value, as: UTF8.self)

        switch Self.lowercasedName(line[..<nameEnd]) {
        case "host":
            hostCount += 1
            if hostCount > 1 { return Self.badRequest("more than one Host header field") }
            head.host = text
        case "content-length":
            if sawContentLength { return Self.badRequest("more than one Content-Length") }
            guard !value.isEmpty, value.allSatisfy(ASCII.isDigit) else { return Self.badRequest("invalid Content-Length") }
            if sawTransferEncoding { return Self.badRequest("both Content-Length and Transfer-Encoding") }
            sawContentLength = true
            if value.contains(where: { $0 != ASCII.zero }) { head.announcesBody = true }
        case "transfer-encoding":
            if sawContentLength { return Self.badRequest("both Content-Length and Transfer-Encoding") }
            sawTransferEncoding = true
            head.announcesBody = true
        case "connection":
            for option in value.split(separator: ASCII.comma) {
                switch Self.lowercasedName(ASCII.trimmingWhitespace(option)) {
                case "close": head.asksToClose = true
                case "keep-alive": head.asksToKeepAlive = true
                default: break
                }
            }
        case "range": Self.append(text, to: &head.range)
        case "if-range": Self.append(text, to: &head.ifRange)
        case "if-modified-since": Self.append(text, to: &head.ifModifiedSince)
        case "if-none-match": Self.append(text, to: &head.ifNoneMatch)
        case "user-agent": Self.append(text, to: &head.userAgent)
        case "referer": Self.append(text, to: &head.referer)
        case "accept-encoding": Self.append(text, to: &head.acceptEncoding)
        case "accept": Self.append(text, to: &head.accept)
        default: break
        }
        return nil
    }

    private static func lowercasedName(_ name: Slice<UnsafeRawBufferPointer>) -> String {
        // Names up to 15 bytes (all those Ferry uses) fit in a String without allocating.
        String(unsafeUninitializedCapacity: name.count) { output in
            for (index, byte) in name.enumerated() { output[index] = ASCII.lowercased(byte) }
            return name.count
        }
    }

    /// Joins a repeated list field. An empty field line adds no element: joining it
    /// would leave a value ending in ", " (found by the request-head fuzzer).
    private static func append(_ value: String, to field: inout String?) {
        guard let existing = field, !existing.isEmpty else {
            field = value
            return
        }
        if !value.isEmpty { field = existing + ", " + value }
    }
}
