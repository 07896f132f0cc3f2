/// Entity tags for files.
public enum EntityTag {
    /// A strong tag from the file's identity and version, in hex:
    /// `"inode-size-mtimeSeconds-mtimeNanoseconds"`. A negative mtime is written as its
    /// two's-complement bit pattern, so the tag never holds a stray "-".
    public static func make(inode: UInt64, size: Int64, mtimeSeconds: Int64, mtimeNanoseconds: Int64) -> String {
        let fields = [inode, UInt64(bitPattern: size), UInt64(bitPattern: mtimeSeconds),
                      UInt64(bitPattern: mtimeNanoseconds)]
        return "\"" + fields.map { String($0, radix: 16) }.joined(separator: "-") + "\""
    }
}

/// Conditional requests (RFC 9110 §13) as far as a static file server needs them.
public enum Preconditions {
    /// Whether to answer 304 Not Modified. If-None-Match decides when present (weak
    /// comparison; "*" matches any existing file; a malformed list matches nothing);
    /// otherwise If-Modified-Since does: 304 when `lastModified` is not after its date,
    /// and an unparsable date is ignored.
    public static func isNotModified(ifNoneMatch: String?, ifModifiedSince: String?, etag: String,
                                     lastModified: Int64) -> Bool {
        if let ifNoneMatch {
            let field = ASCII.trimmingWhitespace(Array(ifNoneMatch.utf8))
            if field.elementsEqual("*".utf8) { return true }
            guard let ours = singleTag(Array(etag.utf8)[...]), let theirs = tagList(field) else { return false }
            return theirs.contains { $0.opaque == ours.opaque }
        }
        guard let ifModifiedSince, let date = HTTPDate.parse(ifModifiedSince) else { return false }
        return lastModified <= date
    }

    /// Whether a Range field may be honoured. If-Range absent → true. An entity-tag →
    /// strong comparison with `etag` (a weak tag never matches). An HTTP-date → true only
    /// if it equals `lastModified` exactly. Anything else → false (send the whole file).
    public static func rangeApplies(ifRange: String?, etag: String, lastModified: Int64) -> Bool {
        guard let ifRange else { return true }
        let field = ASCII.trimmingWhitespace(Array(ifRange.utf8))
        // RFC 9110 §13.1.5: a DQUOTE (or "W/") tells an entity-tag from a date.
        if field.first == ASCII.quote || field.starts(with: "W/".utf8) {
            guard let theirs = singleTag(field), let ours = singleTag(Array(etag.utf8)[...]) else { return false }
            return !theirs.isWeak && !ours.isWeak && theirs.opaque == ours.opaque
        }
        guard let date = HTTPDate.parse(ifRange) else { return false }
        return date == lastModified
    }

    // MARK: entity-tag syntax

    private struct Tag {
        var isWeak: Bool
        /// The opaque-tag, quotes included.
        var opaque: ArraySlice<UInt8>
    }

    /// Exactly one entity-tag, nothing around it.
    private static func singleTag(_ bytes: ArraySlice<UInt8>) -> Tag? {
        guard let (tag, end) = scanTag(bytes, from: bytes.startIndex), end == bytes.endIndex else { return nil }
        return tag
    }

    /// `1#entity-tag`: tags separated by commas and optional whitespace (empty list
    /// elements are allowed, RFC 9110 §5.6.1); nil if anything else is found.
    private static func tagList(_ bytes: ArraySlice<UInt8>) -> [Tag]? {
        var tags: [Tag] = []
        var index = bytes.startIndex
        while true {
            while index < bytes.endIndex && (ASCII.isWhitespace(bytes[index]) || bytes[index] == ASCII.comma) {
                index += 1
            }
            if index == bytes.endIndex { break }
            guard let (tag, end) = scanTag(bytes, from: index) else { return nil }
            tags.append(tag)
            index = end
            while index < bytes.endIndex && ASCII.isWhitespace(bytes[index]) { index += 1 }
            guard index == bytes.endIndex || bytes[index] == ASCII.comma else { return nil }
        }
        return tags.isEmpty ? nil : tags
    }

    /// `[ "W/" ] DQUOTE *etagc DQUOTE` starting at `start`, and the index after it.
    private static func scanTag(_ bytes: ArraySlice<UInt8>, from start: Int) -> (Tag, Int)? {
        var index = start
        let isWeak = bytes[index...].starts(with: "W/".utf8)
        if isWeak { index += 2 }
        guard index < bytes.endIndex, bytes[index] == ASCII.quote else { return nil }
        let opaqueStart = index
        index += 1
        // etagc: "!", "#" to "~", and obs-text; so no quote, space or control.
        while index < bytes.endIndex && bytes[index] != ASCII.quote {
            let byte = bytes[index]
            guard byte == 0x21 || (0x23...0x7E).contains(byte) || byte >= 0x80 else { return nil }
            index += 1
        }
        guard index < bytes.endIndex else { return nil }
        return (Tag(isWeak: isWeak, opaque: bytes[opaqueStart...index]), index + 1)
    }
}
