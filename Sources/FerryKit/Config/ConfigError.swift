/// A configuration problem, as the one line `ferry` prints before it exits:
/// `conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got 70000`.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String
    /// The key whose value broke a rule ("server.port"), when the problem is one
    /// value's; a caller that set the value from a flag names the flag instead.
    public let key: String?
    /// What is wrong with that value, without the key's name.
    public let problem: String

    /// Line breaks in `description` (from a file name or a parser message) become
    /// spaces, so the error is always exactly one line.
    public init(_ description: String) {
        self.description = Self.oneLine(description)
        key = nil
        problem = self.description
    }

    /// A value of `[section] key` that breaks a rule.
    init(section: String, key: String, problem: String) {
        self.key = "\(section).\(key)"
        self.problem = Self.oneLine(problem)
        description = "[\(section)] \(key): \(self.problem)"
    }

    /// Two errors are the same when they say the same.
    public static func == (lhs: ConfigError, rhs: ConfigError) -> Bool {
        lhs.description == rhs.description
    }

    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
