/// The body of a multipart/byteranges response (RFC 9110 §14.6) as segments: each
/// part's boundary and head from memory, its bytes as a range of the file.
///
///     --BOUNDARY\r\n
///     Content-Type: text/plain\r\n
///     Content-Range: bytes 0-9/1000\r\n
///     \r\n
///     <bytes 0-9>\r\n
///     --BOUNDARY\r\n
///     ...
///     <bytes 20-29>\r\n
///     --BOUNDARY--\r\n
public enum MultipartByteranges {
    /// A boundary that cannot occur in the body by chance: "ferry-" and 16 random
    /// hex digits (RFC 2046 §5.1.1 allows up to 70 characters).
    public static func makeBoundary() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return "ferry-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The Content-Type of the whole response.
    public static func contentType(boundary: String) -> FieldValue {
        FieldValue.mediaType("multipart/byteranges; boundary=\(boundary)")
    }

    /// The segments for `spans` of a representation of `length` bytes whose parts
    /// are of `contentType`.
    public static func segments(_ spans: [ByteSpan], length: Int64, contentType: FieldValue,
                                boundary: String) -> [MultipartSegment] {
        var segments: [MultipartSegment] = []
        var separator = "--\(boundary)\r\n"
        for span in spans {
            separator += "Content-Type: \(contentType)\r\nContent-Range: bytes \(span.offset)-\(span.last)/\(length)\r\n\r\n"
            segments.append(.bytes(Array(separator.utf8)))
            segments.append(.file(offset: span.offset, length: span.length))
            separator = "\r\n--\(boundary)\r\n"
        }
        segments.append(.bytes(Array("\r\n--\(boundary)--\r\n".utf8)))
        return segments
    }
}

/// One piece of a multipart/byteranges body: bytes from memory (a boundary and part
/// head), or a range of the file.
public enum MultipartSegment: Equatable, Sendable {
    case bytes([UInt8])
    case file(offset: Int64, length: Int64)
}
