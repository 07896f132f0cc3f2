/// A configuration problem, as the one line `ferry` prints before it exits:
/// `conf/ferry.toml: [server] port: expected an integer from 0 to 65535, got 70000`.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let description: String

    /// Line breaks in `description` (from a file name or a parser message) become
    /// spaces, so the error is always exactly one line.
    public init(_ description: String) {
        self.description = String(description.map { $0.isNewline ? " " : $0 })
    }
}
