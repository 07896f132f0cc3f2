/// A benchmark's setup found the world other than it needs (a temporary directory
/// that cannot be made, a response with another status than measured).
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
