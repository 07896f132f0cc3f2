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

/// A request's precondition fields, as the bytes of their values (nil: absent).
public struct PreconditionFields {
    public var ifMatch: UnsafeRawBufferPointer?
    public var ifUnmodifiedSince: UnsafeRawBufferPointer?
    public var ifNoneMatch: UnsafeRawBufferPointer?
    public var ifModifiedSince: UnsafeRawBufferPointer?
    public var ifRange: UnsafeRawBufferPointer?

    public init(ifMatch: UnsafeRawBufferPointer? = nil, ifUnmodifiedSince: UnsafeRawBufferPointer? = nil,
                ifNoneMatch: UnsafeRawBufferPointer? = nil, ifModifiedSince: UnsafeRawBufferPointer? = nil,
                ifRange: UnsafeRawBufferPointer? = nil) {
        self.ifMatch = ifMatch
        self.ifUnmodifiedSince = ifUnmodifiedSince
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifRange = ifRange
    }
}

/// What the preconditions of a GET or HEAD decide.
public enum PreconditionOutcome: Equatable {
    /// Answer normally; `rangeApplies` says whether a Range field may be honoured.
    case proceed(rangeApplies: Bool)
    /// 304 Not Modified.
    case notModified
    /// 412 Precondition Failed.
    case failed
}

/// Conditional requests (RFC 9110 §13) as far as a static file server needs them.
public enum Preconditions {
    /// Evaluates the fields in RFC 9110 §13.2.2's order for a GET or HEAD of a
    /// representation tagged `etag` (a strong tag, quotes included) and last modified
    /// at `lastModified` (nil when it has no Last-Modified):
    ///
    /// 1. If-Match: none of its tags strongly equal to `etag` (and not "*") → 412.
    /// 2. else If-Unmodified-Since: modified after its date → 412 (a date that does
    ///    not parse is ignored).
    /// 3. If-None-Match: a tag weakly equal to `etag`, or "*" → 304.
    /// 4. else If-Modified-Since: not modified after its date → 304.
    /// 5. If-Range decides whether Range applies: a strong tag equal to `etag`, or a
    ///    date equal to `lastModified`; anything else means the whole representation.
    ///
    /// A client resuming a download with If-Match or If-Unmodified-Since gets 412,
    /// not 206, once the file changed, so it never stitches two versions together.
    public static func evaluate(_ fields: PreconditionFields, etag: [UInt8], lastModified: Int64?) -> PreconditionOutcome {
        if let ifMatch = fields.ifMatch {
            if !matches(list: ifMatch, etag: etag, weak: false) { return .failed }
        } else if let ifUnmodifiedSince = fields.ifUnmodifiedSince, let lastModified,
                  let date = HTTPDate.parse(ifUnmodifiedSince), lastModified > date {
            return .failed
        }
        if let ifNoneMatch = fields.ifNoneMatch {
            if matches(list: ifNoneMatch, etag: etag, weak: true) { return .notModified }
        } else if let ifModifiedSince = fields.ifModifiedSince, let lastModified,
                  let date = HTTPDate.parse(ifModifiedSince), lastModified <= date {
            return .notModified
        }
        return .proceed(rangeApplies: rangeApplies(ifRange: fields.ifRange, etag: etag, lastModified: lastModified))
    }

    /// Whether `list` (`"*" / #entity-tag`) matches `etag`: "*" matches any existing
    /// representation; a malformed list matches nothing. Strong comparison counts weak
    /// tags as never equal.
    private static func matches(list: UnsafeRawBufferPointer, etag: [UInt8], weak: Bool) -> Bool {
        let field = ASCII.trimmingWhitespace(list)
        if ASCII.equals(field, "*") { return true }
        guard let ours = singleTag(etag[...]) else { return false }
        var matched = false
        let wellFormed = forEachTag(in: field) { tag in
            if tag.opaque.elementsEqual(ours.opaque) && (weak || (!tag.isWeak && !ours.isWeak)) { matched = true }
        }
        return wellFormed && matched
    }

    /// Whether a Range field may be honoured. If-Range absent → true. An entity-tag →
    /// strong comparison with `etag` (a weak tag never matches). An HTTP-date → true only
    /// if it equals `lastModified` exactly. Anything else → false (send the whole file).
    private static func rangeApplies(ifRange: UnsafeRawBufferPointer?, etag: [UInt8], lastModified: Int64?) -> Bool {
        guard let ifRange else { return true }
        let field = ASCII.trimmingWhitespace(ifRange)
        // RFC 9110 §13.1.5: a DQUOTE (or "W/") tells an entity-tag from a date.
        if field.first == ASCII.quote || field.starts(with: "W/".utf8) {
            guard let theirs = singleTag(field), let ours = singleTag(etag[...]) else { return false }
            return !theirs.isWeak && !ours.isWeak && theirs.opaque.elementsEqual(ours.opaque)
        }
        guard let lastModified, let date = HTTPDate.parse(ifRange) else { return false }
        return date == lastModified
    }

    // MARK: entity-tag syntax

    private struct Tag<Bytes: Collection> where Bytes.Element == UInt8 {
        var isWeak: Bool
        /// The opaque-tag, quotes included.
        var opaque: Bytes.SubSequence
    }

    /// Exactly one entity-tag, nothing around it.
    private static func singleTag<Bytes: Collection>(_ bytes: Bytes) -> Tag<Bytes>? where Bytes.Element == UInt8 {
        guard let (tag, end) = scanTag(bytes, from: bytes.startIndex), end == bytes.endIndex else { return nil }
        return tag
    }

    /// `1#entity-tag`: tags separated by commas and optional whitespace (empty list
    /// elements are allowed, RFC 9110 §5.6.1), each given to `body`; false if anything
    /// else is found, or no tag.
    private static func forEachTag<Bytes: Collection>(in bytes: Bytes, _ body: (Tag<Bytes>) -> Void) -> Bool
    where Bytes.Element == UInt8 {
        var index = bytes.startIndex
        var found = false
        while true {
            while index < bytes.endIndex && (ASCII.isWhitespace(bytes[index]) || bytes[index] == ASCII.comma) {
                index = bytes.index(after: index)
            }
            if index == bytes.endIndex { break }
            guard let (tag, end) = scanTag(bytes, from: index) else { return false }
            body(tag)
            found = true
            index = end
            while index < bytes.endIndex && ASCII.isWhitespace(bytes[index]) { index = bytes.index(after: index) }
            guard index == bytes.endIndex || bytes[index] == ASCII.comma else { return false }
        }
        return found
    }

    /// `[ "W/" ] DQUOTE *etagc DQUOTE` starting at `start`, and the index after it.
    private static func scanTag<Bytes: Collection>(_ bytes: Bytes, from start: Bytes.Index) -> (Tag<Bytes>, Bytes.Index)?
    where Bytes.Element == UInt8 {
        var index = start
        let isWeak = bytes[index...].starts(with: "W/".utf8)
        if isWeak { index = bytes.index(index, offsetBy: 2) }
        guard index < bytes.endIndex, bytes[index] == ASCII.quote else { return nil }
        let opaqueStart = index
        index = bytes.index(after: index)
        // etagc: "!", "#" to "~", and obs-text; so no quote, space or control.
        while index < bytes.endIndex && bytes[index] != ASCII.quote {
            let byte = bytes[index]
            guard byte == 0x21 || (0x23...0x7E).contains(byte) || byte >= 0x80 else { return nil }
            index = bytes.index(after: index)
        }
        guard index < bytes.endIndex else { return nil }
        return (Tag(isWeak: isWeak, opaque: bytes[opaqueStart...index]), bytes.index(after: index))
    }
}
