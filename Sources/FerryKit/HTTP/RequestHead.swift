import HTTPTypes

/// The version from a request line: "HTTP/1.1" is major 1, minor 1.
public struct HTTPVersion: Equatable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// "HTTP/1.1".
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A request Ferry refuses, with the status to answer and why.
public struct HTTPError: Error, Equatable, Sendable {
    public var status: HTTPResponse.Status
    /// Short human text for the error page and the log, e.g. "header section exceeds 16384 bytes".
    public var reason: String

    public init(status: HTTPResponse.Status, reason: String) {
        self.status = status
        self.reason = reason
    }
}

/// The request methods a static file server tells apart: the two it serves, the
/// others HTTP defines (405), and any other token (501).
public enum RequestMethod: Equatable, Sendable {
    case get
    case head
    /// POST, PUT, DELETE, CONNECT, OPTIONS, TRACE or PATCH.
    case known
    case unknown

    init(_ token: UnsafeRawBufferPointer) {
        switch token.count {
        case 3 where ASCII.equals(token, "GET"): self = .get
        case 4 where ASCII.equals(token, "HEAD"): self = .head
        default:
            let known: [StaticString] = ["POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]
            self = known.contains { ASCII.equals(token, $0) } ? .known : .unknown
        }
    }
}

/// The header fields Ferry acts on; every other field is checked for syntax and dropped.
public enum RequestField: CaseIterable, Sendable {
    case host, range, ifRange, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince
    case userAgent, referer, acceptEncoding, accept

    /// The lowercase field name.
    var name: StaticString {
        switch self {
        case .host: return "host"
        case .range: return "range"
        case .ifRange: return "if-range"
        case .ifMatch: return "if-match"
        case .ifNoneMatch: return "if-none-match"
        case .ifModifiedSince: return "if-modified-since"
        case .ifUnmodifiedSince: return "if-unmodified-since"
        case .userAgent: return "user-agent"
        case .referer: return "referer"
        case .acceptEncoding: return "accept-encoding"
        case .accept: return "accept"
        }
    }
}

/// Where a piece of a request head lies: `count` bytes from `start` in the bytes the
/// head was parsed from, or, for a repeated field, in the head's own joined values.
struct HeadSpan: Equatable, Sendable {
    var start: Int32
    var count: Int32
    var isJoined = false

    init(start: Int, count: Int, isJoined: Bool = false) {
        self.start = Int32(start)
        self.count = Int32(count)
        self.isJoined = isJoined
    }
}

/// A parsed request head: offsets into the bytes it was parsed from, not copies of
/// them, so parsing makes no String and allocates nothing for a head whose fields
/// each appear once. Plain data (no reference inside): copying one is a memcpy. Read
/// it through `RequestView`, which pairs it with those bytes (and with the parser's
/// `JoinedValues` for a field that appeared several times).
public struct RequestHead: Equatable, Sendable {
    public var method: RequestMethod
    public var version: HTTPVersion
    /// The request line without its line end, for the access log.
    var requestLine: HeadSpan
    var methodToken: HeadSpan
    /// The raw request-target as sent (visible ASCII only).
    var target: HeadSpan
    /// The kept fields; nil when absent.
    private var fieldSpans = FieldSpans()
    /// Content-Length > 0 or any Transfer-Encoding: a body follows the head that Ferry
    /// will not read, so the connection closes (lingering) after the response.
    public var announcesBody = false
    /// The Connection field names `close`.
    public var asksToClose = false
    /// The Connection field names `keep-alive` (how an HTTP/1.0 client asks to persist).
    public var asksToKeepAlive = false

    init(method: RequestMethod, version: HTTPVersion, requestLine: HeadSpan, methodToken: HeadSpan, target: HeadSpan) {
        self.method = method
        self.version = version
        self.requestLine = requestLine
        self.methodToken = methodToken
        self.target = target
    }

    /// Whether the client wants the connection kept after the response (RFC 9112
    /// §9.3): HTTP/1.1 unless it says `close`, HTTP/1.0 only when it says `keep-alive`.
    public var wantsPersistence: Bool {
        Self.persists(version: version, asksToClose: asksToClose, asksToKeepAlive: asksToKeepAlive)
    }

    /// RFC 9112 §9.3's rule, for the head and its text form alike.
    static func persists(version: HTTPVersion, asksToClose: Bool, asksToKeepAlive: Bool) -> Bool {
        !asksToClose && (version == .http1_1 || asksToKeepAlive)
    }

    subscript(field: RequestField) -> HeadSpan? {
        get { fieldSpans[field] }
        set { fieldSpans[field] = newValue }
    }

    /// What a parser holds before it has read a request line.
    static let blank = RequestHead(method: .unknown, version: .http1_1, requestLine: HeadSpan(start: 0, count: 0),
                                   methodToken: HeadSpan(start: 0, count: 0), target: HeadSpan(start: 0, count: 0))
}

/// One optional span per kept field, stored inline (no array, so no allocation).
private struct FieldSpans: Equatable, Sendable {
    private var host, range, ifRange, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince: HeadSpan?
    private var userAgent, referer, acceptEncoding, accept: HeadSpan?

    subscript(field: RequestField) -> HeadSpan? {
        get {
            switch field {
            case .host: return host
            case .range: return range
            case .ifRange: return ifRange
            case .ifMatch: return ifMatch
            case .ifNoneMatch: return ifNoneMatch
            case .ifModifiedSince: return ifModifiedSince
            case .ifUnmodifiedSince: return ifUnmodifiedSince
            case .userAgent: return userAgent
            case .referer: return referer
            case .acceptEncoding: return acceptEncoding
            case .accept: return accept
            }
        }
        set {
            switch field {
            case .host: host = newValue
            case .range: range = newValue
            case .ifRange: ifRange = newValue
            case .ifMatch: ifMatch = newValue
            case .ifNoneMatch: ifNoneMatch = newValue
            case .ifModifiedSince: ifModifiedSince = newValue
            case .ifUnmodifiedSince: ifUnmodifiedSince = newValue
            case .userAgent: userAgent = newValue
            case .referer: referer = newValue
            case .acceptEncoding: acceptEncoding = newValue
            case .accept: accept = newValue
            }
        }
    }
}

/// The values of repeated fields, joined with ", " (RFC 9110 §5.3), in memory of its
/// own; a parser makes one only for a head that repeats a kept field. A view of them
/// stays valid while this object lives (they only grow while the head is parsed,
/// before any view is taken).
public final class JoinedValues: @unchecked Sendable {
    private var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
    private var count = 0

    deinit { storage.deallocate() }

    /// Appends `first`, ", " and `second`; returns where the result lies.
    func append(_ first: [UInt8], _ second: UnsafeRawBufferPointer) -> HeadSpan {
        let start = count
        reserve(first.count + 2 + second.count)
        first.withUnsafeBytes { copy($0) }
        let separator: StaticString = ", "
        separator.withUTF8Buffer { copy(UnsafeRawBufferPointer($0)) }
        copy(second)
        return HeadSpan(start: start, count: count - start, isJoined: true)
    }

    private func reserve(_ more: Int) {
        guard count + more > storage.count else { return }
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count + more, 2 * storage.count), alignment: 1)
        grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[..<count]))
        storage.deallocate()
        storage = grown
    }

    private func copy(_ bytes: UnsafeRawBufferPointer) {
        UnsafeMutableRawBufferPointer(rebasing: storage[count..<(count + bytes.count)]).copyMemory(from: bytes)
        count += bytes.count
    }

    func slice(_ span: HeadSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[Int(span.start)..<Int(span.start + span.count)])
    }
}

/// A parsed head together with the bytes it was parsed from, valid only while those
/// bytes are (inside the `withUnsafeBytes` of the buffer that holds them).
public struct RequestView {
    public let head: RequestHead
    public let bytes: UnsafeRawBufferPointer
    /// The parser's joined values of repeated fields (`RequestHeadParser.joined`).
    let joined: JoinedValues?

    public init(head: RequestHead, bytes: UnsafeRawBufferPointer, joined: JoinedValues? = nil) {
        self.head = head
        self.bytes = bytes
        self.joined = joined
    }

    public var method: RequestMethod { head.method }
    public var version: HTTPVersion { head.version }
    var target: UnsafeRawBufferPointer { slice(head.target) }
    var requestLine: UnsafeRawBufferPointer { slice(head.requestLine) }
    var methodToken: UnsafeRawBufferPointer { slice(head.methodToken) }

    /// The field's value (nil when absent); a repeated field's values come joined by ", ".
    func value(_ field: RequestField) -> UnsafeRawBufferPointer? {
        guard let span = head[field] else { return nil }
        guard span.isJoined else { return slice(span) }
        // A joined span's offsets are in the parser's storage, never in `bytes`.
        guard let joined else { preconditionFailure("a view of a head with repeated fields needs the parser's joined values") }
        return joined.slice(span)
    }

    /// The field's value as text, for tests and the cold paths that need a String.
    public func text(_ field: RequestField) -> String? {
        value(field).map { String(decoding: $0, as: UTF8.self) }
    }

    public var targetText: String { String(decoding: target, as: UTF8.self) }
    public var requestLineText: String { String(decoding: requestLine, as: UTF8.self) }
    public var methodText: String { String(decoding: methodToken, as: UTF8.self) }

    private func slice(_ span: HeadSpan) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Int(span.start)..<Int(span.start + span.count)])
    }
}

/// A parsed head's parts as text: what tests, the fuzzer and diagnostics compare.
/// The server reads `RequestView` instead and makes none of these Strings.
public struct RequestHeadText: Equatable, Sendable {
    public var method: String
    public var target: String
    public var version: HTTPVersion
    public var requestLine: String
    /// The kept fields present, repeated ones joined by ", ".
    public var fields: [RequestField: String]
    public var announcesBody: Bool
    public var asksToClose: Bool
    public var asksToKeepAlive: Bool

    public init(method: String, target: String, version: HTTPVersion, requestLine: String,
                fields: [RequestField: String] = [:], announcesBody: Bool = false, asksToClose: Bool = false,
                asksToKeepAlive: Bool = false) {
        self.method = method
        self.target = target
        self.version = version
        self.requestLine = requestLine
        self.fields = fields
        self.announcesBody = announcesBody
        self.asksToClose = asksToClose
        self.asksToKeepAlive = asksToKeepAlive
    }

    public subscript(field: RequestField) -> String? { fields[field] }

    /// As `RequestHead.wantsPersistence`.
    public var wantsPersistence: Bool {
        RequestHead.persists(version: version, asksToClose: asksToClose, asksToKeepAlive: asksToKeepAlive)
    }
}

extension RequestView {
    /// The head's parts as text.
    public var text: RequestHeadText {
        var fields: [RequestField: String] = [:]
        for field in RequestField.allCases { fields[field] = text(field) }
        return RequestHeadText(method: methodText, target: targetText, version: version, requestLine: requestLineText,
                               fields: fields, announcesBody: head.announcesBody, asksToClose: head.asksToClose,
                               asksToKeepAlive: head.asksToKeepAlive)
    }
}
