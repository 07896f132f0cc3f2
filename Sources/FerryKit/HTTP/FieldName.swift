/// A response header field name: a non-empty token (RFC 9110 §5.1), so never a
/// space, colon, CR or LF.
public struct FieldName: Equatable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The name as written into the head, in the case given.
    public let text: String

    /// `text` itself, or nil when it is empty or not a token.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy(ASCII.isTokenCharacter) else { return nil }
        self.text = text
    }

    /// Ferry's own names; a literal that is not a token is a programming error.
    public init(stringLiteral value: String) {
        guard let name = FieldName(value) else { preconditionFailure("field name literal \(value.debugDescription) is not a token") }
        self = name
    }

    public var description: String { text }

    /// Field names compare case-insensitively.
    public func matches(_ other: String) -> Bool {
        text.utf8.count == other.utf8.count
            && zip(text.utf8, other.utf8).allSatisfy { ASCII.lowercased($0) == ASCII.lowercased($1) }
    }
}
