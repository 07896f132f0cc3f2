/// One `[[headers]]` rule: for responses to a path matching `pattern`, fields to set
/// (replacing any of the same name) and fields to remove.
public struct HeaderRule: Equatable, Sendable {
    public var pattern: PathPattern
    public var set: [(name: FieldName, value: FieldValue)]
    public var remove: [String]

    public init(pattern: PathPattern, set: [(name: FieldName, value: FieldValue)] = [], remove: [String] = []) {
        self.pattern = pattern
        self.set = set
        self.remove = remove
    }

    public static func == (lhs: HeaderRule, rhs: HeaderRule) -> Bool {
        lhs.pattern == rhs.pattern && lhs.remove == rhs.remove
            && lhs.set.map(\.name) == rhs.set.map(\.name) && lhs.set.map(\.value) == rhs.set.map(\.value)
    }

    /// Fields Ferry writes itself to frame the response or the connection: a rule
    /// changing them could make a response be read two ways.
    static let reservedNames: Set<String> = [
        "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer",
        "date", "server", "content-range", "content-encoding",
    ]

    /// The problem with a field name, if any: a token (RFC 9110 §5.1) Ferry does not reserve.
    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.allSatisfy(ASCII.isTokenCharacter) else {
            return "\(ConfigWording.quoted(name)) is not a field name (letters, digits and !#$%&'*+-.^_`|~ only)"
        }
        if reservedNames.contains(name.lowercased()) {
            return "\(name) is written by Ferry itself and cannot be set or removed"
        }
        return nil
    }

    /// The problem with a field value, if any: visible characters, spaces and tabs
    /// inside, none at either end, no CR, LF, NUL or other control character.
    static func valueProblem(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        let allowed = bytes.allSatisfy { $0 == ASCII.tab || $0 >= 0x20 && $0 != 0x7F }
        guard allowed else { return "value \(ConfigWording.quoted(value)) holds a control character (CR, LF, ...)" }
        if let first = bytes.first, let last = bytes.last, ASCII.isWhitespace(first) || ASCII.isWhitespace(last) {
            return "value \(ConfigWording.quoted(value)) starts or ends with whitespace"
        }
        return nil
    }
}

extension ResponseHead {
    /// Applies the rules whose pattern matches `path`, in order.
    mutating func apply(_ rules: [HeaderRule], path: [UInt8]) {
        for rule in rules where rule.pattern.matches(path) {
            for name in rule.remove { remove(name) }
            for field in rule.set {
                remove(field.name.text)
                add(field.name, field.value)
            }
        }
    }
}
