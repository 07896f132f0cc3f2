import HTTPTypes

/// Writes HTTP/1.x response heads into a byte buffer, piece by piece and without
/// building Strings: the status line first, then the fields (Date and Server from
/// `DateHeaderCache.prelude`, a file's constant fields from its cache entry), then
/// the framing that ends every head.
@_spi(Benchmarks) public enum HeadWriter {
    /// "HTTP/1.1 200 OK\r\n".
    @_spi(Benchmarks) public static func statusLine(_ status: HTTPResponse.Status, version: HTTPVersion,
                                                    into bytes: inout [UInt8]) {
        bytes.append(version == .http1_1 ? "HTTP/1.1 " : "HTTP/1.0 ")
        // Status codes are 0...999 (HTTPResponse.Status checks), always written as three digits.
        let code = status.code
        bytes.append(UInt8(code / 100) + ASCII.zero)
        bytes.append(UInt8(code / 10 % 10) + ASCII.zero)
        bytes.append(UInt8(code % 10) + ASCII.zero)
        bytes.append(ASCII.space)
        bytes.append(contentsOf: status.reasonPhrase.utf8)
        bytes.append("\r\n")
    }

    /// "Content-Length: N\r\n" (when the response has one), the Connection field the
    /// connection's fate calls for, and the empty line that ends the head.
    @_spi(Benchmarks) public static func framing(contentLength: Int64?, connection: ConnectionField,
                                                 into bytes: inout [UInt8]) {
        if let contentLength {
            bytes.append("Content-Length: ")
            decimal(contentLength, into: &bytes)
            bytes.append("\r\n")
        }
        switch connection {
        case .none: break
        case .keepAlive: bytes.append("Connection: keep-alive\r\n")
        case .close: bytes.append("Connection: close\r\n")
        }
        bytes.append("\r\n")
    }

    /// `value` in decimal digits (not negative).
    static func decimal(_ value: Int64, into bytes: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var remaining = UInt64(max(value, 0))
            var start = scratch.count
            repeat {
                start -= 1
                scratch[start] = UInt8(remaining % 10) + ASCII.zero
                remaining /= 10
            } while remaining > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[start...]))
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends a literal's bytes.
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }
}
