/// A download's published digest: `NAME.sha256` beside `NAME`, as mirrors publish
/// them, sent as `Repr-Digest: sha-256=:BASE64:` (RFC 9530) with the file's 200, 206
/// and HEAD answers. The digest covers the whole representation, so a 206 carries
/// the same value (not a digest of the part, which would be Content-Digest).
enum DigestSidecar {
    static let suffix = Array(".sha256".utf8)
    /// A sidecar larger than this is not one line of `sha256sum`: ignored.
    static let maximumBytes = 4096

    /// The SHA-256 in `text` (the sidecar's bytes) for the file named `fileName`: one
    /// line of 64 hex digits, optionally followed by the file's name as `sha256sum`
    /// writes it ("HASH  NAME" or "HASH *NAME", a path ending in the name accepted).
    /// nil when the text holds anything else (another name, a second line, no hash).
    static func parse(_ text: [UInt8], fileName: [UInt8]) -> [UInt8]? {
        var line = text[...]
        if line.last == ASCII.lf { line = line.dropLast() }
        if line.last == ASCII.cr { line = line.dropLast() }
        guard line.count >= 64, !line.contains(ASCII.lf) else { return nil }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        var index = line.startIndex
        for _ in 0..<32 {
            guard let high = ASCII.hexValue(line[index]), let low = ASCII.hexValue(line[index + 1]) else { return nil }
            digest.append(high << 4 | low)
            index += 2
        }
        let rest = line[index...]
        if rest.isEmpty { return digest }
        // "  NAME" (text mode) or " *NAME" (binary mode).
        guard rest.count > 2, rest.first == ASCII.space,
              rest.dropFirst().first == ASCII.space || rest.dropFirst().first == UInt8(ascii: "*") else { return nil }
        let name = rest.dropFirst(2)
        let named = name.elementsEqual(fileName)
            || (name.count > fileName.count && name.suffix(fileName.count).elementsEqual(fileName)
                && name[name.endIndex - fileName.count - 1] == ASCII.slash)
        return named ? digest : nil
    }

    /// The field value: `sha-256=:BASE64:`.
    static func fieldValue(_ digest: [UInt8]) -> FieldValue {
        "sha-256=:\(FieldValue(String(decoding: Base64.encode(digest), as: UTF8.self)) ?? ""):"
    }
}
