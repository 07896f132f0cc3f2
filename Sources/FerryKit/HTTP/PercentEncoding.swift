/// Percent-encoding of URL paths (RFC 3986), on bytes: Linux file names are bytes,
/// not necessarily UTF-8.
public enum PercentEncoding {
    /// Decodes every "%XX" once. nil when an escape is malformed ("%G1", "%4").
    public static func decode<Bytes: Collection>(_ input: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        return decode(input, appendingTo: &output) ? output : nil
    }

    /// Decodes every "%XX" once, appending to `output`; false when an escape is
    /// malformed (what was decoded before it stays appended).
    public static func decode<Bytes: Collection>(_ input: Bytes, appendingTo output: inout [UInt8]) -> Bool
    where Bytes.Element == UInt8 {
        var index = input.startIndex
        while index != input.endIndex {
            let byte = input[index]
            index = input.index(after: index)
            guard byte == UInt8(ascii: "%") else {
                output.append(byte)
                continue
            }
            guard index != input.endIndex, let high = ASCII.hexValue(input[index]) else { return false }
            index = input.index(after: index)
            guard index != input.endIndex, let low = ASCII.hexValue(input[index]) else { return false }
            index = input.index(after: index)
            output.append(high << 4 | low)
        }
        return true
    }

    /// Encodes one path segment: everything but unreserved characters and the
    /// sub-delimiters that are safe in a path is escaped, so "/" , "?" and "#" are too.
    public static func encodeSegment<Bytes: Sequence>(_ segment: Bytes) -> String where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        for byte in segment {
            if isPathSafe(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(ASCII.hexDigit(byte >> 4))
                output.append(ASCII.hexDigit(byte & 0x0F))
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func isPathSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
             UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }
}
