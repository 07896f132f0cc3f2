/// A response header field value that cannot end its line early: no CR, LF, NUL, other
/// control character or DEL anywhere, no space or tab at either end (RFC 9110 §5.5).
/// `ResponseHead` takes nothing else, so a file name, a request-target, a libmagic answer
/// or a config value can reach a response head only through one of these doors, each
/// with its policy:
///
/// - `init?(_:)` checks a text and refuses it: config values (refused at load), dates
///   and entity tags (left out if ever refused).
/// - `uriReference(_:)` percent-encodes what a URI cannot hold: Location.
/// - `mediaType(_:)` falls back to application/octet-stream: Content-Type from the
///   extension table or libmagic.
/// - string literals and interpolations of numbers and other values: Ferry's own text,
///   checked when it is first used (a bad literal is a programming error).
public struct FieldValue: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The value as written into the head.
    public let text: String

    /// `text` itself, or nil when it holds a byte a field value cannot hold or starts or
    /// ends with whitespace.
    public init?(_ text: String) {
        guard Self.isValid(text.utf8) else { return nil }
        self.text = text
    }

    private init(checked text: String) {
        self.text = text
    }

    public var description: String { text }

    /// A URI reference with every byte outside visible ASCII percent-encoded (controls,
    /// space, DEL, non-ASCII); "%" is kept, the text being a URI already. A Location
    /// built from a request-target or a file name therefore never carries CR or LF.
    public static func uriReference(_ text: String) -> FieldValue {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if (0x21...0x7E).contains(byte) {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "%"), ASCII.hexDigit(byte >> 4), ASCII.hexDigit(byte & 0x0F)]
            }
        }
        return FieldValue(checked: String(decoding: output, as: UTF8.self))
    }

    /// The media type for a Content-Type field: `text` when it is `type/subtype` with
    /// optional `; name=value` parameters (tokens, or a quoted string for the value),
    /// otherwise application/octet-stream, which makes a browser download rather than
    /// render something Ferry could not name.
    public static func mediaType(_ text: String) -> FieldValue {
        // Checked in place (once per response): no copy of the bytes.
        var text = text
        let valid = text.withUTF8 { isMediaType($0) && isValid($0) }
        return valid ? FieldValue(checked: text) : octetStream
    }

    public static let octetStream = FieldValue(checked: "application/octet-stream")

    // MARK: checks

    static func isValid<Bytes: BidirectionalCollection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        guard bytes.allSatisfy(isAllowed) else { return false }
        guard let first = bytes.first, let last = bytes.last else { return true }
        return !ASCII.isWhitespace(first) && !ASCII.isWhitespace(last)
    }

    /// HTAB, SP, visible ASCII and obs-text.
    private static func isAllowed(_ byte: UInt8) -> Bool {
        byte == ASCII.tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// RFC 9110 §8.3.1: `token "/" token *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] )`.
    static func isMediaType<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Bool
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var index = 0
        func token() -> Bool {
            let start = index
            while index < bytes.count, ASCII.isTokenCharacter(bytes[index]) { index += 1 }
            return index > start
        }
        func whitespace() {
            while index < bytes.count, ASCII.isWhitespace(bytes[index]) { index += 1 }
        }
        func quotedString() -> Bool {
            guard index < bytes.count, bytes[index] == ASCII.quote else { return false }
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == ASCII.quote { return true }
                if byte == UInt8(ascii: "\\") {
                    guard index < bytes.count, isAllowed(bytes[index]) else { return false }
                    index += 1
                } else if !isAllowed(byte) {
                    return false
                }
            }
            return false
        }
        guard token(), index < bytes.count, bytes[index] == ASCII.slash else { return false }
        index += 1
        guard token() else { return false }
        while index < bytes.count {
            whitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return false }
            index += 1
            whitespace()
            if index == bytes.count { return true }
            if bytes[index] == UInt8(ascii: ";") { continue }
            guard token(), index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return false }
            index += 1
            guard token() || quotedString() else { return false }
        }
        return true
    }
}

extension FieldValue: ExpressibleByStringInterpolation {
    public init(stringLiteral value: String) {
        precondition(Self.isValid(value.utf8), "field value literal \(value.debugDescription) holds a control character")
        self.init(checked: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        self.init(stringLiteral: stringInterpolation.text)
    }

    /// Literal text with numbers and other field values in it, nothing else: a String
    /// cannot be interpolated, so it has to pass one of the doors above first.
    public struct StringInterpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + 8 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            text += literal
        }

        public mutating func appendInterpolation<Number: BinaryInteger>(_ number: Number, radix: Int = 10) {
            text += String(number, radix: radix)
        }

        public mutating func appendInterpolation(_ value: FieldValue) {
            text += value.text
        }
    }
}
