/// Chooses the Content-Type of a regular file: the extension table first, libmagic
/// for files whose extension is missing or unknown, and libmagic's encoding as the
/// charset of text types.
///
/// Not thread-safe: each worker process (or thread) uses its own resolver.
public final class ContentTypeResolver {
    private let table: ExtensionTable
    /// nil when magic is off: unknown extensions are then octet-stream, no charset.
    private let sniffer: MagicSniffer?

    /// libmagic's guesses by file identity and version. A hard link under another
    /// name shares the guess; the name's extension is applied afterwards.
    private var guesses: [FileVersion: MagicGuess?] = [:]
    /// Bound on `guesses`; the dictionary is emptied when it is reached.
    static let cacheLimit = 4096

    private static let fallbackType = "application/octet-stream"

    public init(table: ExtensionTable, useMagic: Bool = true) {
        self.table = table
        self.sniffer = useMagic ? MagicSniffer() : nil
    }

    /// Content-Type for an open regular file named `fileName` (last path segment
    /// bytes), with "; charset=..." for text. libmagic reads the file from its first
    /// byte through `fd`, whatever the descriptor's position, and leaves that
    /// position as it was; `fd` stays open.
    public func contentType(fileName: [UInt8], fd: Int32, info: FileInfo) -> String {
        let byExtension = ExtensionTable.fileExtension(of: fileName).flatMap(table.type(forExtension:))
        if let byExtension, !Self.isText(byExtension) {
            return byExtension
        }
        let guess = cachedGuess(fd: fd, info: info)
        let type = byExtension ?? guess.flatMap(Self.usefulType) ?? Self.fallbackType
        guard Self.isText(type), let encoding = guess?.encoding,
              !["binary", "unknown-8bit", ""].contains(encoding) else {
            return type
        }
        // libmagic judges only the file's first bytes: "us-ascii" there may be UTF-8
        // further on, and UTF-8 is a superset of ASCII, so utf-8 is always right.
        return "\(type); charset=\(encoding == "us-ascii" ? "utf-8" : encoding)"
    }

    /// Number of cached guesses, for tests of the bound.
    var cachedGuessCount: Int { guesses.count }

    private func cachedGuess(fd: Int32, info: FileInfo) -> MagicGuess? {
        guard let sniffer else { return nil }
        let key = FileVersion(info)
        if let cached = guesses[key] { return cached }
        if guesses.count >= Self.cacheLimit { guesses.removeAll(keepingCapacity: true) }
        let guess = sniffer.guess(fd)
        guesses[key] = .some(guess)
        return guess
    }

    /// libmagic's type when it says something a browser can use: not its
    /// pseudo-types for empty files ("application/x-empty", "inode/x-empty") and
    /// not its own "don't know" (octet-stream, which is the fallback anyway).
    private static func usefulType(_ guess: MagicGuess) -> String? {
        let type = guess.mimeType
        guard type.contains("/"), !type.hasPrefix("inode/"),
              type != "application/x-empty", type != fallbackType else { return nil }
        return type
    }

    /// Types whose body is text and so gets a charset parameter.
    static func isText(_ type: String) -> Bool {
        switch type {
        case "application/javascript", "application/json", "application/xml", "image/svg+xml":
            return true
        default:
            return type.hasPrefix("text/")
        }
    }
}

/// A file's identity and version: a guess stays valid while none of these change.
private struct FileVersion: Hashable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int64
    let modifiedNanoseconds: Int64

    init(_ info: FileInfo) {
        device = info.device
        inode = info.inode
        size = info.size
        modifiedSeconds = info.modifiedSeconds
        modifiedNanoseconds = info.modifiedNanoseconds
    }
}
