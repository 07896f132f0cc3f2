/// Escapes text for HTML element content and quoted attribute values.
public enum HTMLEscape {
    /// `&`, `<`, `>`, `"` and `'` become entities; bytes that are not valid UTF-8
    /// become U+FFFD, so a file name can never break the page's markup.
    public static func escape<Bytes: Sequence>(_ text: Bytes) -> String where Bytes.Element == UInt8 {
        escape(String(decoding: Array(text), as: UTF8.self))
    }

    public static func escape(_ text: String) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.unicodeScalars.append(character)
            }
        }
        return output
    }
}
