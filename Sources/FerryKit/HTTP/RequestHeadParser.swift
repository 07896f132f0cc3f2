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
    /// Offset just after the request line; -1 until the request line is parsed.
    private var headerStart = -1
    /// The head so far, once the request line is parsed.
    private var head = RequestHead.blank
    /// The joined values of the kept fields the head repeats (nil: none repeats). A
    /// `RequestView` of the parsed head needs it to read them.
    public private(set) var joined: JoinedValues?
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
            let start = lineStart
            let line = UnsafeRawBufferPointer(rebasing: buffer[start..<contentEnd])
            lineStart = lineFeed + 1
            if let outcome = take(line, at: start, in: buffer, contentEnd: contentEnd, lineEnd: lineFeed + 1) {
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
        guard headerStart >= 0 else {
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
            return .failed(headerSectionTooLarge, requestLine: Self.requestLineText(head, buffer))
        }
        return nil
    }

    /// The request line of `head`, for the access log of a refused request.
    private static func requestLineText(_ head: RequestHead, _ buffer: UnsafeRawBufferPointer) -> String {
        RequestView(head: head, bytes: buffer).requestLineText
    }

    private var requestLineTooLong: HTTPError {
        HTTPError(status: .uriTooLong, reason: "request line exceeds \(limits.requestLineBytes) bytes")
    }

    private var headerSectionTooLarge: HTTPError {
        HTTPError(status: .requestHeaderFieldsTooLarge, reason: "header section exceeds \(limits.headerBytes) bytes")
    }

    // MARK: lines

    /// Handles one complete line (`line` is its content, without CR LF, starting at
    /// `lineOffset` in `buffer`); returns the final result, or nil to read on.
    private mutating func take(_ line: UnsafeRawBufferPointer, at lineOffset: Int, in buffer: UnsafeRawBufferPointer,
                               contentEnd: Int, lineEnd: Int) -> HeadParseResult? {
        guard headerStart >= 0 else {
            if contentEnd > limits.requestLineBytes {
                return .failed(requestLineTooLong, requestLine: nil)
            }
            if line.isEmpty { return nil }
            switch Self.parseRequestLine(line, at: lineOffset) {
            case .success(let parsed):
                head = parsed
                headerStart = lineEnd
                return nil
            case .failure(let error):
                return .failed(error, requestLine: String(decoding: line, as: UTF8.self))
            }
        }
        if line.isEmpty {
            return finish(consumed: lineEnd, in: buffer)
        }
        if lineEnd - headerStart > limits.headerBytes {
            return .failed(headerSectionTooLarge, requestLine: Self.requestLineText(head, buffer))
        }
        fieldCount += 1
        if fieldCount > limits.headerFields {
            let error = HTTPError(status: .requestHeaderFieldsTooLarge,
                                  reason: "more than \(limits.headerFields) header fields")
            return .failed(error, requestLine: Self.requestLineText(head, buffer))
        }
        if let error = takeField(line, at: lineOffset, in: buffer) {
            return .failed(error, requestLine: Self.requestLineText(head, buffer))
        }
        return nil
    }

    /// The checks that need the whole head.
    private func finish(consumed: Int, in buffer: UnsafeRawBufferPointer) -> HeadParseResult {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is rejected.
        if head.version == .http1_1 && head[.host] == nil {
            return .failed(Self.badRequest("missing Host header field"), requestLine: Self.requestLineText(head, buffer))
        }
        return .complete(head, consumed: consumed)
    }

    private static func badRequest(_ reason: String) -> HTTPError {
        HTTPError(status: .badRequest, reason: reason)
    }

    // MARK: request line

    /// `method SP request-target SP HTTP-version`, single spaces only; `line` starts
    /// at `offset` in the buffer.
    private static func parseRequestLine(_ line: UnsafeRawBufferPointer, at offset: Int) -> Result<RequestHead, HTTPError> {
        if line.contains(ASCII.cr) { return .failure(badRequest("CR not followed by LF")) }
        guard let firstSpace = line.firstIndex(of: ASCII.space),
              let secondSpace = line[(firstSpace + 1)...].firstIndex(of: ASCII.space),
              !line[(secondSpace + 1)...].contains(ASCII.space),
              firstSpace > 0, secondSpace > firstSpace + 1, secondSpace + 1 < line.count else {
            return .failure(badRequest("malformed request line"))
        }
        let methodToken = UnsafeRawBufferPointer(rebasing: line[..<firstSpace])
        guard methodToken.allSatisfy(ASCII.isTokenCharacter) else {
            return .failure(badRequest("method is not a token"))
        }
        // Visible ASCII only: no controls, no spaces, no raw UTF-8.
        let target = line[(firstSpace + 1)..<secondSpace]
        guard target.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return .failure(badRequest("request-target contains invalid bytes"))
        }
        let versionText = line[(secondSpace + 1)...]
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
        return .success(RequestHead(method: RequestMethod(methodToken), version: version,
                                    requestLine: HeadSpan(start: offset, count: line.count),
                                    methodToken: HeadSpan(start: offset, count: firstSpace),
                                    target: HeadSpan(start: offset + firstSpace + 1, count: secondSpace - firstSpace - 1)))
    }

    // MARK: header fields

    /// `field-name ":" OWS field-value OWS`, starting at `offset` in `buffer`;
    /// records the fields Ferry uses into `head`.
    private mutating func takeField(_ line: UnsafeRawBufferPointer, at offset: Int,
                                    in buffer: UnsafeRawBufferPointer) -> HTTPError? {
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
        let name = line[..<nameEnd]
        let span = HeadSpan(start: offset + value.startIndex, count: value.count)

        if let field = Self.keptField(named: name) {
            if field == .host {
                hostCount += 1
                if hostCount > 1 { return Self.badRequest("more than one Host header field") }
            }
            record(span, as: field, buffer: buffer)
        } else if ASCII.equalsIgnoringCase(name, "content-length") {
            if sawContentLength { return Self.badRequest("more than one Content-Length") }
            guard !value.isEmpty, value.allSatisfy(ASCII.isDigit) else { return Self.badRequest("invalid Content-Length") }
            if sawTransferEncoding { return Self.badRequest("both Content-Length and Transfer-Encoding") }
            sawContentLength = true
            if value.contains(where: { $0 != ASCII.zero }) { head.announcesBody = true }
        } else if ASCII.equalsIgnoringCase(name, "transfer-encoding") {
            if sawContentLength { return Self.badRequest("both Content-Length and Transfer-Encoding") }
            sawTransferEncoding = true
            head.announcesBody = true
        } else if ASCII.equalsIgnoringCase(name, "connection") {
            // Option by option, without splitting into an array.
            var optionStart = value.startIndex
            while optionStart < value.endIndex {
                let optionEnd = value[optionStart...].firstIndex(of: ASCII.comma) ?? value.endIndex
                let option = ASCII.trimmingWhitespace(value[optionStart..<optionEnd])
                if ASCII.equalsIgnoringCase(option, "close") { head.asksToClose = true }
                if ASCII.equalsIgnoringCase(option, "keep-alive") { head.asksToKeepAlive = true }
                optionStart = optionEnd + 1
            }
        }
        return nil
    }

    /// The kept field a name stands for (case-insensitive), if any: one comparison,
    /// chosen by the name's length.
    private static func keptField(named name: Slice<UnsafeRawBufferPointer>) -> RequestField? {
        let candidate: RequestField
        switch name.count {
        case 4: candidate = .host
        case 5: candidate = .range
        case 6: candidate = .accept
        case 7: candidate = .referer
        case 8: candidate = ASCII.lowercased(name[name.startIndex + 3]) == UInt8(ascii: "r") ? .ifRange : .ifMatch
        case 10: candidate = .userAgent
        case 13: candidate = .ifNoneMatch
        case 15: candidate = .acceptEncoding
        case 17: candidate = .ifModifiedSince
        case 19: candidate = .ifUnmodifiedSince
        default: return nil
        }
        return ASCII.equalsIgnoringCase(name, candidate.name) ? candidate : nil
    }

    /// Records a kept field's value. A repeated one is joined with the earlier value(s)
    /// by ", " (RFC 9110 §5.3); an empty field line adds no element: joining it would
    /// leave a value ending in ", " (found by the request-head fuzzer).
    private mutating func record(_ span: HeadSpan, as field: RequestField, buffer: UnsafeRawBufferPointer) {
        guard let existing = head[field], existing.count > 0 else {
            head[field] = span
            return
        }
        guard span.count > 0 else { return }
        let joined = self.joined ?? JoinedValues()
        self.joined = joined
        // A copy: the earlier value may lie in the joined storage that grows now.
        let earlier = Array(RequestView(head: head, bytes: buffer, joined: joined).value(field)!)
        let newValue = UnsafeRawBufferPointer(rebasing: buffer[Int(span.start)..<Int(span.start + span.count)])
        head[field] = joined.append(earlier, newValue)
    }
}
