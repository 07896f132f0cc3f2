import FerryKit

/// Properties of `ByteRange.evaluate` and the multipart body built from its answer.
///
/// Input: 8 bytes choosing the representation's length, then the Range field value.
public enum RangeChecks {
    public static func check(_ data: UnsafeRawBufferPointer) {
        let lengthBits = littleEndian(data, count: 8)
        // Half the inputs get a small file, where ranges overlap its end; the others any
        // length up to Int64.max, where arithmetic could overflow.
        let length = lengthBits & 1 == 0 ? Int64((lengthBits >> 1) % 5000) : Int64(lengthBits >> 1)
        let field = String(decoding: data.count > 8 ? UnsafeRawBufferPointer(rebasing: data[8...]) : .init(start: nil, count: 0),
                           as: UTF8.self)
        for maxRanges in [ByteRange.defaultMaxRanges, 3] {
            check(field: field, length: length, maxRanges: maxRanges)
        }
    }

    static func check(field: String, length: Int64, maxRanges: Int) {
        let decision = ByteRange.evaluate(field, length: length, maxRanges: maxRanges)
        let context = "\(field.debugDescription) on \(length) bytes (max \(maxRanges))"
        switch decision {
        case .full:
            break
        case .unsatisfiable:
            // "bytes=0-" is satisfiable on any non-empty file, so a field that is a list
            // of specs can only be unsatisfiable on its own account; nothing more to say
            // without re-parsing. The 416 names the length, never a range.
            break
        case .partial(let offset, let count):
            checkSpan(ByteSpan(offset: offset, length: count), length: length, context)
            requireStable(decision, spans: [ByteSpan(offset: offset, length: count)], length: length,
                          maxRanges: maxRanges, context)
        case .multiple(let spans):
            require(spans.count >= 2 && spans.count <= maxRanges, "\(spans.count) parts for \(context)")
            var total: Int64 = 0
            for (index, span) in spans.enumerated() {
                checkSpan(span, length: length, context)
                if index > 0 {
                    let previous = spans[index - 1]
                    require(span.offset > previous.last + 1, "parts \(previous) and \(span) not sorted and apart for \(context)")
                }
                total += span.length
            }
            require(total <= length, "parts add up to \(total) > \(length) for \(context)")
            requireStable(decision, spans: spans, length: length, maxRanges: maxRanges, context)
            checkMultipart(spans, length: length, context)
        }
    }

    static func checkSpan(_ span: ByteSpan, length: Int64, _ context: String) {
        require(span.offset >= 0 && span.length >= 1 && span.offset < length && span.length <= length - span.offset,
                "span \(span) outside the file for \(context)")
    }

    /// Asking again for exactly the ranges chosen gives the same answer.
    static func requireStable(_ decision: RangeDecision, spans: [ByteSpan], length: Int64, maxRanges: Int,
                              _ context: String) {
        let field = "bytes=" + spans.map { "\($0.offset)-\($0.last)" }.joined(separator: ",")
        let again = ByteRange.evaluate(field, length: length, maxRanges: maxRanges)
        require(again == decision, "\(field) gives \(again), not \(decision), for \(context)")
    }

    /// The multipart body's file parts are the spans, in order, and its length adds up.
    static func checkMultipart(_ spans: [ByteSpan], length: Int64, _ context: String) {
        let segments = MultipartByteranges.segments(spans, length: length, contentType: "text/plain",
                                                    boundary: MultipartByteranges.makeBoundary())
        var fileParts: [ByteSpan] = []
        for segment in segments {
            if case .file(let offset, let count) = segment { fileParts.append(ByteSpan(offset: offset, length: count)) }
        }
        require(fileParts == spans, "multipart file parts \(fileParts) differ from \(spans) for \(context)")
    }
}
