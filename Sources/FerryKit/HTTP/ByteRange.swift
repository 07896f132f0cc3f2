/// One satisfiable range: `length` bytes from `offset`.
public struct ByteSpan: Equatable, Sendable {
    public var offset: Int64
    public var length: Int64

    public init(offset: Int64, length: Int64) {
        self.offset = offset
        self.length = length
    }

    /// The last byte's position.
    public var last: Int64 { offset + length - 1 }
}

/// What to send for a Range field.
public enum RangeDecision: Equatable, Sendable {
    /// No usable range: send the whole representation with 200.
    case full
    /// Send `length` bytes from `offset` with 206; `length` is at least 1 and
    /// `offset + length` never exceeds the representation's length.
    case partial(offset: Int64, length: Int64)
    /// Several spans, sorted, none overlapping or adjacent: 206 multipart/byteranges.
    case multiple([ByteSpan])
    /// 416 with `Content-Range: bytes */LEN`.
    case unsatisfiable
}

/// Evaluation of a Range field (RFC 9110 §14.1–14.2) against a representation's length.
///
/// Unsatisfiable specs in a list are dropped; if none is left, 416. Overlapping and
/// adjacent ranges are coalesced (RFC 9110 §15.3.7.2 allows it whatever their order),
/// and one range left is a plain 206. Other units and malformed fields are ignored
/// (the whole file is sent, as the RFC permits). So is a list of more than
/// `maxRanges` specs, or one whose ranges add up to more than the file: answering
/// those costs more than the file itself, which is the attack of CVE-2011-3192.
public enum ByteRange {
    /// Apache's MaxRanges default, and more than any real client sends (lighttpd
    /// caps at 128; PDF readers ask for a few dozen).
    public static let defaultMaxRanges = 200

    /// - Parameters:
    ///   - field: the Range field value, nil when absent.
    ///   - length: the representation's length, not negative.
    ///   - maxRanges: most range-specs served; more gives `.full`.
    public static func evaluate(_ field: String?, length: Int64, maxRanges: Int = defaultMaxRanges) -> RangeDecision {
        evaluate(field.map { Array($0.utf8) }, length: length, maxRanges: maxRanges)
    }

    /// `evaluate` of a field value's bytes, read where they lie: the one range of a
    /// resumed download allocates nothing.
    static func evaluate<Bytes: BidirectionalCollection>(_ field: Bytes?, length: Int64, maxRanges: Int)
    -> RangeDecision where Bytes.Element == UInt8 {
        guard let field, let list = rangeList(field) else { return .full }
        // A first pass checks and counts, so a field to be ignored is ignored whole.
        var count = 0
        guard forEachSpec(in: list, { _ in count += 1 }), count > 0, count <= maxRanges else { return .full }
        var first: ByteSpan?
        // From the second satisfiable span on: the first with the others.
        var spans: [ByteSpan] = []
        var requested: Int64 = 0
        _ = forEachSpec(in: list) { spec in
            guard let span = resolve(spec, length: length) else { return }
            requested = requested.addingReportingOverflow(span.length).overflow ? Int64.max : requested + span.length
            guard let first else {
                first = span
                return
            }
            if spans.isEmpty { spans.append(first) }
            spans.append(span)
        }
        guard let first else { return .unsatisfiable }
        if spans.isEmpty { return .partial(offset: first.offset, length: first.length) }
        if requested > length { return .full }
        let merged = coalesce(spans)
        if merged.count == 1 { return .partial(offset: merged[0].offset, length: merged[0].length) }
        return .multiple(merged)
    }

    /// The span a spec selects, or nil when it is unsatisfiable.
    private static func resolve(_ spec: Spec, length: Int64) -> ByteSpan? {
        switch spec {
        case .suffix(let count):
            // "-N": the last N bytes, the whole representation when it is shorter;
            // never 0-N. On an empty representation no suffix is satisfiable.
            guard count > 0, length > 0 else { return nil }
            let served = min(count, length)
            return ByteSpan(offset: length - served, length: served)
        case .from(let first, let last):
            // A first-pos past the end is unsatisfiable (416, not 400: vapor#2991),
            // which also covers "bytes=N-" for N == length, a resumed complete download.
            guard first < length else { return nil }
            // Clamped to the end, so never more bytes than asked or than exist (vapor#2566).
            let end = min(last ?? Int64.max, length - 1)
            return ByteSpan(offset: first, length: end - first + 1)
        }
    }

    /// Sorted by offset, with overlapping and adjacent spans joined.
    static func coalesce(_ spans: [ByteSpan]) -> [ByteSpan] {
        var merged: [ByteSpan] = []
        for span in spans.sorted(by: { $0.offset < $1.offset }) {
            if let previous = merged.last, span.offset <= previous.last + 1 {
                let end = max(previous.last, span.last)
                merged[merged.count - 1].length = end - previous.offset + 1
            } else {
                merged.append(span)
            }
        }
        return merged
    }

    private enum Spec {
        /// "first-last" or "first-"; last >= first.
        case from(first: Int64, last: Int64?)
        /// "-count".
        case suffix(count: Int64)
    }

    /// What follows `bytes=` (the unit in any case), or nil for another unit.
    private static func rangeList<Bytes: BidirectionalCollection>(_ field: Bytes) -> Bytes.SubSequence?
    where Bytes.Element == UInt8 {
        guard let equals = field.firstIndex(of: UInt8(ascii: "=")),
              ASCII.equalsIgnoringCase(field[..<equals], "bytes") else { return nil }
        return field[field.index(after: equals)...]
    }

    /// Calls `body` with each range-spec of `list`; false when one is malformed (the
    /// field is then ignored). Empty list elements are allowed (RFC 9110 §5.6.1).
    /// Numbers too large for Int64 saturate to Int64.max: still past any end as a
    /// first-pos, and still the end of the file as a last-pos.
    private static func forEachSpec<List: BidirectionalCollection>(in list: List, _ body: (Spec) -> Void) -> Bool
    where List.Element == UInt8 {
        var start = list.startIndex
        while start != list.endIndex {
            let end = list[start...].firstIndex(of: ASCII.comma) ?? list.endIndex
            let text = ASCII.trimmingWhitespace(list[start..<end])
            start = end == list.endIndex ? end : list.index(after: end)
            if text.isEmpty { continue }
            guard let spec = parseSpec(text) else { return false }
            body(spec)
        }
        return true
    }

    private static func parseSpec<Text: Collection>(_ spec: Text) -> Spec? where Text.Element == UInt8 {
        guard let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let firstDigits = spec[..<dash]
        let lastDigits = spec[spec.index(after: dash)...]
        if firstDigits.isEmpty {
            guard let count = number(lastDigits) else { return nil }
            return .suffix(count: count)
        }
        guard let first = number(firstDigits) else { return nil }
        if lastDigits.isEmpty { return .from(first: first, last: nil) }
        // first > last is invalid, so "bytes=9223372036854775807-0" can never yield a
        // negative length (vapor#2837).
        guard let last = number(lastDigits), last >= first else { return nil }
        return .from(first: first, last: last)
    }

    /// 1*DIGIT, saturating at Int64.max; nil if empty or not all digits.
    private static func number<Digits: Collection>(_ digits: Digits) -> Int64? where Digits.Element == UInt8 {
        guard !digits.isEmpty else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard ASCII.isDigit(byte) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - ASCII.zero))
            value = overflow1 || overflow2 ? Int64.max : sum
        }
        return value
    }
}
