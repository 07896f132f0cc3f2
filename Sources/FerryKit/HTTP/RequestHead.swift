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

/// A parsed request head: the request line and the header fields Ferry acts on.
/// Other fields are checked for syntax and then dropped.
public struct RequestHead: Equatable, Sendable {
    public var method: HTTPRequest.Method
    /// The raw request-target as sent (visible ASCII only).
    public var target: String
    public var version: HTTPVersion
    /// The request line without its line end, for the access log.
    public var requestLine: String
    public var host: String?
    public var range: String?
    public var ifRange: String?
    public var ifModifiedSince: String?
    /// Several If-None-Match fields are joined with ", ", as RFC 9110 allows for lists.
    public var ifNoneMatch: String?
    public var userAgent: String?
    public var referer: String?
    /// Several fields are joined with ", ", as for every list field.
    public var acceptEncoding: String?
    public var accept: String?
    /// Content-Length > 0 or any Transfer-Encoding: a body follows the head that Ferry
    /// will not read, so the connection closes (lingering) after the response.
    public var announcesBody: Bool
    /// The Connection field names `close`.
    public var asksToClose = false
    /// The Connection field names `keep-alive` (how an HTTP/1.0 client asks to persist).
    public var asksToKeepAlive = false

    public init(method: HTTPRequest.Method, target: String, version: HTTPVersion, requestLine: String,
                host: String? = nil, range: String? = nil, ifRange: String? = nil,
                ifModifiedSince: String? = nil, ifNoneMatch: String? = nil,
                userAgent: String? = nil, referer: String? = nil, acceptEncoding: String? = nil,
                accept: String? = nil, announcesBody: Bool = false,
                asksToClose: Bool = false, asksToKeepAlive: Bool = false) {
        self.method = method
        self.target = target
        self.version = version
        self.requestLine = requestLine
        self.host = host
        self.range = range
        self.ifRange = ifRange
        self.ifModifiedSince = ifModifiedSince
        self.ifNoneMatch = ifNoneMatch
        self.userAgent = userAgent
        self.referer = referer
        self.acceptEncoding = acceptEncoding
        self.accept = accept
        self.announcesBody = announcesBody
        self.asksToClose = asksToClose
        self.asksToKeepAlive = asksToKeepAlive
    }

    /// Whether the client wants the connection kept after the response (RFC 9112
    /// §9.3): HTTP/1.1 unless it says `close`, HTTP/1.0 only when it says `keep-alive`.
    public var wantsPersistence: Bool {
        if asksToClose { return false }
        return version == .http1_1 || asksToKeepAlive
    }
}
