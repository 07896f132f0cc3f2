/// A glob over a request's decoded path: `*` matches any run of characters but "/",
/// `**` any run including "/", `?` one character but "/". A pattern that starts
/// with "/" is matched against the whole path ("/assets/**", "/index.html"); one
/// without any "/" against the last segment, the file name ("*.html").
public struct PathPattern: Equatable, Sendable {
    public let text: String
    private let pattern: [UInt8]
    private let wholePath: Bool

    /// nil when `text` is empty, or has a "/" but does not start with one.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard let first = bytes.first else { return nil }
        guard first == ASCII.slash || !bytes.contains(ASCII.slash) else { return nil }
        self.text = text
        pattern = bytes
        wholePath = first == ASCII.slash
    }

    /// Whether `path` ("/docs/a.txt", "/docs/" for a directory) matches.
    public func matches(_ path: [UInt8]) -> Bool {
        if wholePath { return Self.match(pattern[...], path[...]) }
        let name = path.split(separator: ASCII.slash).last ?? []
        return Self.match(pattern[...], name)
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        guard let first = pattern.first else { return text.isEmpty }
        let star = UInt8(ascii: "*")
        if first == star {
            let anySlash = pattern.dropFirst().first == star
            let rest = pattern.dropFirst(anySlash ? 2 : 1)
            var index = text.startIndex
            while true {
                if match(rest, text[index...]) { return true }
                guard index < text.endIndex, anySlash || text[index] != ASCII.slash else { return false }
                index += 1
            }
        }
        guard let byte = text.first else { return false }
        if first == UInt8(ascii: "?") ? byte != ASCII.slash : byte == first {
            return match(pattern.dropFirst(), text.dropFirst())
        }
        return false
    }
}
