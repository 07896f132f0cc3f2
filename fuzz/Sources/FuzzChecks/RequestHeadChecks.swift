import FerryKit

/// Properties of `RequestHeadParser` on arbitrary bytes.
public enum RequestHeadChecks {
    /// Small limits, so that inputs of a few hundred bytes reach every limit check.
    static let smallLimits: HeadLimits = {
        var limits = HeadLimits()
        limits.requestLineBytes = 64
        limits.headerBytes = 256
        limits.headerFields = 6
        return limits
    }()

    public static func check(_ data: UnsafeRawBufferPointer) {
        for limits in [HeadLimits(), smallLimits] {
            var parser = RequestHeadParser(limits: limits)
            let whole = parser.parse(data)
            // The parser is incremental: any split of the same bytes gives the same answer.
            let split = parseInPieces(data, limits: limits, cuts: cutPoints(data))
            require(same(whole, split), "split parse \(split) differs from whole parse \(whole)")
            if case .complete(let head, let consumed) = whole {
                checkHead(RequestView(head: head, bytes: data, joined: parser.joined).text, consumed: consumed, data: data,
                          limits: limits)
            }
        }
    }

    /// Feeds growing prefixes ending at `cuts`, then the whole, as a socket would.
    static func parseInPieces(_ data: UnsafeRawBufferPointer, limits: HeadLimits, cuts: [Int]) -> HeadParseResult {
        var parser = RequestHeadParser(limits: limits)
        for cut in cuts + [data.count] {
            let result = parser.parse(UnsafeRawBufferPointer(rebasing: data[0..<cut]))
            if result != .incomplete { return result }
        }
        return .incomplete
    }

    /// A few prefix lengths chosen from the bytes themselves, sorted.
    static func cutPoints(_ data: UnsafeRawBufferPointer) -> [Int] {
        guard data.count > 1 else { return [] }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return (0..<4).map { Int((hash >> (UInt64($0) * 16)) & 0xFFFF) % data.count }.sorted()
    }

    /// Results are equal, or both refusals with the same status (a refusal found early
    /// in a split read may name the request line differently: it had not arrived).
    static func same(_ lhs: HeadParseResult, _ rhs: HeadParseResult) -> Bool {
        if case .failed(let left, _) = lhs, case .failed(let right, _) = rhs { return left.status == right.status }
        return lhs == rhs
    }

    static func checkHead(_ head: RequestHeadText, consumed: Int, data: UnsafeRawBufferPointer, limits: HeadLimits) {
        require(consumed > 0 && consumed <= data.count, "consumed \(consumed) of \(data.count) bytes")
        require(data[consumed - 1] == 0x0A, "the head does not end with its LF")
        require(head.version == .http1_0 || head.version == .http1_1, "version \(head.version)")
        require(head.version == .http1_0 || head[.host] != nil, "an HTTP/1.1 head without Host")
        require(!head.target.isEmpty && head.target.utf8.allSatisfy { (0x21...0x7E).contains($0) },
                "target \(head.target.debugDescription) is not visible ASCII")
        require(!head.method.isEmpty && head.method.utf8.allSatisfy(isTokenCharacter),
                "method \(head.method.debugDescription)")
        for (name, value) in keptFields(head) {
            require(isFieldSafe(value), "\(name) value \(value.debugDescription) holds a control character")
            require(value.utf8.first.map { $0 != 0x20 && $0 != 0x09 } ?? true
                        && value.utf8.last.map { $0 != 0x20 && $0 != 0x09 } ?? true,
                    "\(name) value \(value.debugDescription) is not trimmed")
        }
        checkFraming(UnsafeRawBufferPointer(rebasing: data[0..<consumed]), head: head)
        // Re-serialized, the head parses to the same fields.
        let again = serialize(head)
        let reparsed: RequestHeadText? = again.withUnsafeBytes { bytes in
            var parser = RequestHeadParser(limits: HeadLimits())
            guard case .complete(let parsed, again.count) = parser.parse(bytes) else { return nil }
            return RequestView(head: parsed, bytes: bytes, joined: parser.joined).text
        }
        require(reparsed == head,
                "re-serialized head \(String(decoding: again, as: UTF8.self).debugDescription) parses to \(String(describing: reparsed))")
        // What the server then does with the target must hold too.
        TargetChecks.check(target: head.target)
    }

    /// RFC 9112 §6.3: a head that two readers could frame differently is never
    /// accepted: at most one Content-Length, never beside Transfer-Encoding, and a body
    /// is announced exactly when one of them says so.
    static func checkFraming(_ headBytes: UnsafeRawBufferPointer, head: RequestHeadText) {
        var contentLengths: [[UInt8]] = []
        var transferEncodings = 0
        var sawRequestLine = false
        for rawLine in headBytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            let line = rawLine.last == 0x0D ? Array(rawLine.dropLast()) : Array(rawLine)
            if !sawRequestLine {
                sawRequestLine = !line.isEmpty
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = line[(colon + 1)...].filter { $0 != 0x20 && $0 != 0x09 }
            if name == "content-length" { contentLengths.append(value) }
            if name == "transfer-encoding" { transferEncodings += 1 }
        }
        require(contentLengths.count <= 1, "\(contentLengths.count) Content-Length fields accepted")
        require(contentLengths.isEmpty || transferEncodings == 0, "Content-Length beside Transfer-Encoding accepted")
        if let length = contentLengths.first {
            require(!length.isEmpty && length.allSatisfy { (0x30...0x39).contains($0) },
                    "Content-Length \(String(decoding: length, as: UTF8.self).debugDescription) accepted")
        }
        let announces = transferEncodings > 0 || contentLengths.first.map { $0.contains { $0 != 0x30 } } == true
        require(head.announcesBody == announces, "announcesBody \(head.announcesBody) for that framing")
    }

    static func keptFields(_ head: RequestHeadText) -> [(String, String)] {
        let fields: [(String, RequestField)] = [
            ("Host", .host), ("Range", .range), ("If-Range", .ifRange), ("If-Match", .ifMatch),
            ("If-None-Match", .ifNoneMatch), ("If-Modified-Since", .ifModifiedSince),
            ("If-Unmodified-Since", .ifUnmodifiedSince), ("User-Agent", .userAgent), ("Referer", .referer),
            ("Accept-Encoding", .acceptEncoding), ("Accept", .accept),
        ]
        return fields.compactMap { name, field in head[field].map { (name, $0) } }
    }

    /// The head as a client would send it, from the parsed fields only.
    static func serialize(_ head: RequestHeadText) -> [UInt8] {
        var text = head.requestLine + "\r\n"
        for (name, value) in keptFields(head) { text += "\(name): \(value)\r\n" }
        if head.announcesBody { text += "Content-Length: 1\r\n" }
        let options = (head.asksToClose ? ["close"] : []) + (head.asksToKeepAlive ? ["keep-alive"] : [])
        if !options.isEmpty { text += "Connection: \(options.joined(separator: ", "))\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
