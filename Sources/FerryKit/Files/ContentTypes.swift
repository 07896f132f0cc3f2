import Glibc

/// File extension → media type, from the system's `/etc/mime.types` (Debian's
/// media-types package: lines of "type ext1 ext2 ...", `#` comments) with Ferry's
/// built-in entries on top.
public final class ExtensionTable {
    /// Lowercased extension → media type.
    private var types: [String: String] = [:]

    /// A missing or unreadable file leaves only the built-in entries.
    public init(mimeTypesPath: String = "/etc/mime.types") {
        if let contents = Self.readFile(mimeTypesPath) {
            parse(contents)
        }
        for (ext, type) in Self.builtIn {
            types[ext] = type
        }
    }

    /// The media type for `ext` (without the dot), case-insensitively.
    public func type(forExtension ext: String) -> String? {
        types[ext.lowercased()]
    }

    /// What follows the last "." of a file name (the last path segment). nil when
    /// there is no dot, when the name ends with one, and for a name like ".profile"
    /// whose only dot is the first byte.
    public static func fileExtension(of fileName: [UInt8]) -> String? {
        guard let dot = fileName.lastIndex(of: UInt8(ascii: ".")),
              dot != fileName.startIndex,
              dot != fileName.index(before: fileName.endIndex) else { return nil }
        return String(decoding: fileName[(dot + 1)...], as: UTF8.self)
    }

    /// Entries that hold whatever the system table says. Tables in the wild have
    /// missed `.svg`, `.mjs` and `.wasm` (nixcloud-webservices#19, darkhttpd PR #30):
    /// browsers then refuse module scripts and WebAssembly, and with
    /// `X-Content-Type-Options: nosniff` they drop a stylesheet or script served
    /// with the wrong type instead of sniffing it. So the types the web platform
    /// depends on are pinned here, with the spellings browsers expect (text/javascript
    /// per RFC 9239, image/vnd.microsoft.icon as IANA registers it).
    static let builtIn: [String: String] = [
        "html": "text/html",
        "htm": "text/html",
        "css": "text/css",
        "js": "text/javascript",
        "mjs": "text/javascript",
        "json": "application/json",
        "xml": "application/xml",
        "txt": "text/plain",
        "svg": "image/svg+xml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "ico": "image/vnd.microsoft.icon",
        "wasm": "application/wasm",
        "woff2": "font/woff2",
        "pdf": "application/pdf",
        "mp4": "video/mp4",
        "iso": "application/x-iso9660-image",
        "gz": "application/gzip",
        "zip": "application/zip",
    ]

    /// Reads one mime.types file. The first type listed for an extension wins.
    private func parse(_ contents: [UInt8]) {
        for line in contents.split(separator: UInt8(ascii: "\n")) {
            let text = line.prefix { $0 != UInt8(ascii: "#") }
            let fields = text.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
            guard let type = fields.first else { continue }
            let typeString = String(decoding: type, as: UTF8.self)
            for ext in fields.dropFirst() {
                let key = String(decoding: ext, as: UTF8.self).lowercased()
                if types[key] == nil { types[key] = typeString }
            }
        }
    }

    /// The whole file, or nil when it cannot be opened or read.
    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return contents }
            contents += buffer[..<count]
        }
    }
}
