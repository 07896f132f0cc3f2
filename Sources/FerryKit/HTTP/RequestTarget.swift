/// A request-target reduced to a safe path below the document root.
public struct TargetPath: Equatable, Sendable {
    /// The decoded, normalized path below the root: segments joined by "/", no leading
    /// or trailing slash, [] for the root. No segment is empty, ".", ".." or holds "/" or NUL.
    public var relative: [UInt8]
    /// The request path ended in "/" (or in a "." or ".." segment, which name a
    /// directory, RFC 3986 §5.2.4). Always true for the root.
    public var hasTrailingSlash: Bool
    /// The raw query without "?", nil if there was no "?".
    public var query: String?
    /// Some segment starts with ".", other than a leading ".well-known".
    public var isHidden: Bool
    /// The normalized path re-encoded for a URL: "/" + encoded segments joined by "/",
    /// plus "/" if `hasTrailingSlash`; "/" for the root. Empty segments were dropped, so
    /// it never starts with "//" and is safe in a Location field (cpython#87389).
    public var urlPath: String

    public init(relative: [UInt8], hasTrailingSlash: Bool, query: String?, isHidden: Bool, urlPath: String) {
        self.relative = relative
        self.hasTrailingSlash = hasTrailingSlash
        self.query = query
        self.isHidden = isHidden
        self.urlPath = urlPath
    }
}

/// Parsing and normalization of request-targets (RFC 9112 §3.2).
public enum RequestTarget {
    /// Accepts origin-form (`/path?query`) and absolute-form (`http://host/path?query`,
    /// `https://…`; the authority is ignored); anything else is 400. The path is split on
    /// "/", each segment percent-decoded exactly once (so "%252e%252e" is the name
    /// "%2e%2e", dubyte/dir2opds#17), then "." and empty segments are dropped and ".."
    /// removes the segment before it. Normalizing decoded segments is what makes
    /// "/%2e%2e/" an escape attempt instead of a name (CVE-2021-41773).
    public static func parse(_ target: String) -> Result<TargetPath, HTTPError> {
        var bytes = Array(target.utf8)[...]
        if let hash = bytes.firstIndex(of: UInt8(ascii: "#")) { bytes = bytes[..<hash] }
        var query: String?
        if let question = bytes.firstIndex(of: UInt8(ascii: "?")) {
            query = String(decoding: bytes[(question + 1)...], as: UTF8.self)
            bytes = bytes[..<question]
        }
        guard let path = self.path(of: bytes) else {
            return .failure(HTTPError(status: .badRequest, reason: "unsupported request-target form"))
        }

        var segments: [[UInt8]] = []
        // Whether the last segment names a directory: "", "." and ".." do (RFC 3986 §5.2.4).
        var endsAsDirectory = true
        // The path starts with "/", so the first piece of the split is empty.
        for raw in path.split(separator: ASCII.slash, omittingEmptySubsequences: false).dropFirst() {
            guard let segment = PercentEncoding.decode(raw) else {
                return .failure(HTTPError(status: .badRequest, reason: "malformed percent-encoding in path"))
            }
            guard !segment.contains(ASCII.slash), !segment.contains(0) else {
                return .failure(HTTPError(status: .badRequest, reason: "encoded slash or NUL in path"))
            }
            switch segment {
            case [], [UInt8(ascii: ".")]:
                endsAsDirectory = true
            case [UInt8(ascii: "."), UInt8(ascii: ".")]:
                guard segments.popLast() != nil else {
                    return .failure(HTTPError(status: .badRequest, reason: "path escapes the document root"))
                }
                endsAsDirectory = true
            default:
                segments.append(segment)
                endsAsDirectory = false
            }
        }

        // Only the leading ".well-known" segment itself is exempt (RFC 8615): a dot-file
        // beneath it (/.well-known/.git/config) is as hidden as anywhere else.
        let isHidden = segments.enumerated().contains { index, segment in
            segment.first == UInt8(ascii: ".") && !(index == 0 && segment == Array(".well-known".utf8))
        }
        var urlPath = "/" + segments.map { PercentEncoding.encodeSegment($0) }.joined(separator: "/")
        if endsAsDirectory && !segments.isEmpty { urlPath += "/" }
        return .success(TargetPath(relative: Array(segments.joined(separator: [ASCII.slash])),
                                   hasTrailingSlash: endsAsDirectory, query: query, isHidden: isHidden,
                                   urlPath: urlPath))
    }

    /// The path of an origin-form or absolute-form target (query and fragment already
    /// removed), always starting with "/"; nil for other forms ("*", authority-form,
    /// relative references).
    private static func path(of target: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        if target.first == ASCII.slash { return target }
        for scheme in ["http://", "https://"] {
            let prefix = target.prefix(scheme.utf8.count)
            // The scheme is case-insensitive (RFC 3986 §3.1).
            guard prefix.count == scheme.utf8.count,
                  zip(prefix, scheme.utf8).allSatisfy({ ASCII.lowercased($0) == $1 }) else { continue }
            let afterScheme = target.dropFirst(scheme.utf8.count)
            guard let pathStart = afterScheme.firstIndex(of: ASCII.slash) else { return [ASCII.slash] }
            return target[pathStart...]
        }
        return nil
    }
}
