/// What to send for a Range field.
public enum RangeDecision: Equatable, Sendable {
    /// No usable range: send the whole representation with 200.
    case full
    /// Send `length` bytes from `offset` with 206; `length` is at least 1 and
    /// `offset + length` never exceeds the representation's length.
    case partial(offset: Int64, length: Int64)
    /// 416 with `Content-Range: bytes */LEN`.
    case unsatisfiable
}

/// Evaluation of a Range field (RFC 9110 §14.1–14.2) against a representation's length.
///
/// Ferry serves exactly one range of bytes. Several ranges, other units and malformed
/// fields are ignored (the whole file is sent, as the RFC permits), which also rules
/// out the overlapping-ranges attack of CVE-2011-3192.
public enum ByteRange {
    /// - Parameters:
    ///   - field: the Range field value, nil when absent.
    ///   - length: the representation's length, not negative.
    public static func evaluate(_ field: String?, length: Int64) -> RangeDecision {
        guard let field, let spec = parse(Array(field.utf8)) else { return .full }
        switch spec {
        case .suffix(let count):
            // "-N": the last N bytes, the whole representation when it is shorter;
            // never 0-N. On an empty representation no suffix is satisfiable.
            guard count > 0, length > 0 else { return .unsatisfiable }
            let served = min(count, length)
            return .partial(offset: length - served, length: served)
        case .from(let first, let last):
            // A first-pos past the end is unsatisfiable (416, not 400: vapor#2991),
            // which also covers "bytes=N-" for N == length, a resumed complete download.
            guard first < length else { return .unsatisfiable }
            // Clamped to the end, so never more bytes than asked or than exist (vapor#2566).
            let end = min(last ?? Int64.max, length - 1)
            return .partial(offset: first, length: end - first + 1)
        }
    }

    private enum Spec {
        /// "first-last" or "first-"; last >= first.
        case from(first: Int64, last: Int64?)
        /// "-count".
        case suffix(count: Int64)
    }

    /// One `bytes=` range-spec, or nil when the field is to be ignored. Numbers too
    /// large for Int64 saturate to Int64.max: still past any end as a first-pos, and
    /// still the end of the file as a last-pos.
    private static func parse(_ field: [UInt8]) -> Spec? {
        guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let unit = field[..<equals]
        guard unit.count == 5, zip(unit, "bytes".utf8).allSatisfy({ ASCII.lowercased($0) == $1 }) else {
            return nil
        }
        // Optional whitespace around the one range-spec is tolerated, as list syntax
        // allows; a comma means several ranges, which Ferry does not serve.
        let spec = ASCII.trimmingWhitespace(field[(equals + 1)...])
        guard !spec.contains(ASCII.comma), let dash = spec.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let firstDigits = spec[..<dash]
        let lastDigits = spec[(dash + 1)...]
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
    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
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
