/// The JSON form of a listing, field for field what nginx's `autoindex_format json`
/// writes, so programs written against nginx read Ferry's unchanged:
///
///     [
///     { "name":"sub", "type":"directory", "mtime":"Tue, 14 Nov 2023 22:13:20 GMT" },
///     { "name":"a.txt", "type":"file", "mtime":"Tue, 14 Nov 2023 22:13:20 GMT", "size":2 }
///     ]
///
/// `name` is the raw name, JSON-escaped (not percent-encoded); `type` is "file",
/// "directory" or "other"; `mtime` is an HTTP-date (RFC 9110 §5.6.7, nginx's format);
/// `size` is present for files only. Entries that cannot be stat'ed are left out, as
/// nginx leaves them out.
public enum DirectoryListingJSON {
    public static let contentType: FieldValue = "application/json"

    public static func render(directory fd: Int32, order: ListingOrder = ListingOrder()) throws -> [UInt8] {
        let entries = order.sorted(try DirectoryListing.readEntries(fd))
        var text = "["
        var first = true
        for entry in entries {
            guard let info = entry.info, let mtime = HTTPDate.format(info.modifiedSeconds) else { continue }
            let type: String
            switch info.kind {
            case .regular: type = "file"
            case .directory: type = "directory"
            case .other: type = "other"
            }
            text += first ? "\n" : ",\n"
            first = false
            text += "{ \"name\":\"\(escape(entry.name))\", \"type\":\"\(type)\", \"mtime\":\"\(mtime)\""
            if info.kind == .regular { text += ", \"size\":\(info.size)" }
            text += " }"
        }
        text += "\n]\n"
        return Array(text.utf8)
    }

    /// A JSON string's content: quote, backslash and control characters escaped;
    /// bytes that are not UTF-8 become U+FFFD, so the document always parses.
    static func escape(_ name: [UInt8]) -> String {
        var output = ""
        for scalar in String(decoding: name, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
