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

/// What normalizing a request-target found, beside the path it wrote.
public struct TargetShape: Equatable, Sendable {
    /// The request path ended in "/" (or in a "." or ".." segment, which name a
    /// directory, RFC 3986 §5.2.4). Always true for the root.
    public var hasTrailingSlash: Bool
    /// Some segment starts with ".", other than a leading ".well-known".
    public var isHidden: Bool
    /// Where the query (after "?", before any "#") lies in the target; nil without "?".
    public var query: Range<Int>?
}

/// Parsing and normalization of request-targets (RFC 9112 §3.2).
public enum RequestTarget {
    /// Accepts origin-form (`/path?query`) and absolute-form (`http://host/path?query`,
    /// `https://…`; the authority is ignored); anything else is 400. The path is split on
    /// "/", each segment percent-decoded exactly once (so "%252e%252e" is the name
    /// "%2e%2e", dubyte/dir2opds#17), then "." and empty segments are dropped and ".."
    /// removes the segment before it. Normalizing decoded segments is what makes
    /// "/%2e%2e/" an escape attempt instead of a name (CVE-2021-41773).
    ///
    /// The decoded path below the root ("docs/a b.txt", [] for the root: segments
    /// joined by "/", none empty, ".", ".." or holding "/" or NUL) replaces the contents
    /// of `path`, whose storage is reused: no allocation once it is large enough.
    public static func normalize(_ target: UnsafeRawBufferPointer, into path: inout [UInt8])
        -> Result<TargetShape, HTTPError> {
        path.removeAll(keepingCapacity: true)
        var end = target.firstIndex(of: UInt8(ascii: "#")) ?? target.count
        var query: Range<Int>?
        if let question = target[..<end].firstIndex(of: UInt8(ascii: "?")) {
            query = (question + 1)..<end
            end = question
        }
        guard let pathStart = self.pathStart(in: UnsafeRawBufferPointer(rebasing: target[..<end])) else {
            return .failure(HTTPError(status: .badRequest, reason: "unsupported request-target form"))
        }
        // Whether the last segment names a directory: "", "." and ".." do (RFC 3986 §5.2.4).
        var endsAsDirectory = true
        var segmentStart = pathStart + 1
        while segmentStart <= end {
            let segmentEnd = target[segmentStart..<end].firstIndex(of: ASCII.slash) ?? end
            let raw = target[segmentStart..<segmentEnd]
            segmentStart = segmentEnd + 1
            let before = path.count
            if before > 0 { path.append(ASCII.slash) }
            let decodedStart = path.count
            guard PercentEncoding.decode(raw, appendingTo: &path) else {
                return .failure(HTTPError(status: .badRequest, reason: "malformed percent-encoding in path"))
            }
            let segment = path[decodedStart...]
            guard !segment.contains(ASCII.slash), !segment.contains(0) else {
                return .failure(HTTPError(status: .badRequest, reason: "encoded slash or NUL in path"))
            }
            if segment.isEmpty || ASCII.equals(segment, ".") {
                path.removeSubrange(before...)
                endsAsDirectory = true
            } else if ASCII.equals(segment, "..") {
                path.removeSubrange(before...)
                guard before > 0 else {
                    return .failure(HTTPError(status: .badRequest, reason: "path escapes the document root"))
                }
                // Drop the segment before it, with its separator.
                path.removeSubrange((path.lastIndex(of: ASCII.slash) ?? 0)...)
                endsAsDirectory = true
            } else {
                endsAsDirectory = false
            }
        }
        return .success(TargetShape(hasTrailingSlash: endsAsDirectory, isHidden: isHidden(path), query: query))
    }

    /// Parses `target` into a `TargetPath`: `normalize` with the path and query as
    /// values of their own, and the URL path for redirects.
    public static func parse(_ target: String) -> Result<TargetPath, HTTPError> {
        var path: [UInt8] = []
        return Array(target.utf8).withUnsafeBytes { raw in
            normalize(raw, into: &path).map { shape in
                TargetPath(relative: path, hasTrailingSlash: shape.hasTrailingSlash,
                           query: shape.query.map { String(decoding: raw[$0], as: UTF8.self) },
                           isHidden: shape.isHidden, urlPath: urlPath(of: path, hasTrailingSlash: shape.hasTrailingSlash))
            }
        }
    }

    /// The normalized path re-encoded for a URL: "/" + encoded segments joined by "/",
    /// plus "/" for a directory; "/" for the root. It never starts with "//", so it is
    /// safe in a Location field (cpython#87389).
    public static func urlPath(of relative: [UInt8], hasTrailingSlash: Bool) -> String {
        var urlPath = "/" + relative.split(separator: ASCII.slash).map { PercentEncoding.encodeSegment($0) }
            .joined(separator: "/")
        if hasTrailingSlash && !relative.isEmpty { urlPath += "/" }
        return urlPath
    }

    /// Some segment starts with "." — except the leading ".well-known" itself (RFC
    /// 8615): a dot-file beneath it (/.well-known/.git/config) is as hidden as anywhere.
    private static func isHidden(_ path: [UInt8]) -> Bool {
        var segmentStart = 0
        while segmentStart < path.count {
            let segmentEnd = path[segmentStart...].firstIndex(of: ASCII.slash) ?? path.count
            if path[segmentStart] == UInt8(ascii: "."),
               !(segmentStart == 0 && ASCII.equals(path[segmentStart..<segmentEnd], ".well-known")) {
                return true
            }
            segmentStart = segmentEnd + 1
        }
        return false
    }

    /// Where the path of an origin-form or absolute-form target (query and fragment
    /// already removed) starts: always at a "/"; nil for other forms ("*",
    /// authority-form, relative references). An absolute-form target without a path
    /// has the empty path, which `normalize` reads as the root.
    private static func pathStart(in target: UnsafeRawBufferPointer) -> Int? {
        if target.first == ASCII.slash { return 0 }
        for scheme: StaticString in ["http://", "https://"] {
            let length = scheme.utf8CodeUnitCount
            // The scheme is case-insensitive (RFC 3986 §3.1).
            guard target.count >= length, ASCII.equalsIgnoringCase(target[..<length], scheme) else { continue }
            return target[length...].firstIndex(of: ASCII.slash) ?? target.count
        }
        return nil
    }
}
